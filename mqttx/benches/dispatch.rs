//! Dispatch cost of a `#[mqtt_handler]` with 100 routes: from an incoming
//! PUBLISH to the route's method, through the generated `handle` (router,
//! named-segment extraction, call). Peer in the same run: a linear scan of
//! the same 100 filters with `packet::topic::matches`, the obvious
//! alternative.
//!
//! `cargo bench -p mqttx --bench dispatch -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mqttx::packet::topic::matches;
use mqttx::{mqtt_handler, HandlerEvent, MqttHandler, Publish};

struct Hundred {
    hits: [u64; 101],
    total_len: usize,
}

impl Default for Hundred {
    fn default() -> Self {
        Hundred {
            hits: [0; 101],
            total_len: 0,
        }
    }
}

#[mqtt_handler]
impl Hundred {
    #[subscribe("bench/r0/{device}/value")]
    fn r0(&mut self, device: &str) {
        self.hits[0] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r1/{device}/value")]
    fn r1(&mut self, device: &str) {
        self.hits[1] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r2/{device}/value")]
    fn r2(&mut self, device: &str) {
        self.hits[2] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r3/{device}/value")]
    fn r3(&mut self, device: &str) {
        self.hits[3] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r4/{device}/value")]
    fn r4(&mut self, device: &str) {
        self.hits[4] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r5/{device}/value")]
    fn r5(&mut self, device: &str) {
        self.hits[5] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r6/{device}/value")]
    fn r6(&mut self, device: &str) {
        self.hits[6] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r7/{device}/value")]
    fn r7(&mut self, device: &str) {
        self.hits[7] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r8/{device}/value")]
    fn r8(&mut self, device: &str) {
        self.hits[8] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r9/{device}/value")]
    fn r9(&mut self, device: &str) {
        self.hits[9] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r10/{device}/value")]
    fn r10(&mut self, device: &str) {
        self.hits[10] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r11/{device}/value")]
    fn r11(&mut self, device: &str) {
        self.hits[11] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r12/{device}/value")]
    fn r12(&mut self, device: &str) {
        self.hits[12] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r13/{device}/value")]
    fn r13(&mut self, device: &str) {
        self.hits[13] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r14/{device}/value")]
    fn r14(&mut self, device: &str) {
        self.hits[14] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r15/{device}/value")]
    fn r15(&mut self, device: &str) {
        self.hits[15] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r16/{device}/value")]
    fn r16(&mut self, device: &str) {
        self.hits[16] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r17/{device}/value")]
    fn r17(&mut self, device: &str) {
        self.hits[17] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r18/{device}/value")]
    fn r18(&mut self, device: &str) {
        self.hits[18] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r19/{device}/value")]
    fn r19(&mut self, device: &str) {
        self.hits[19] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r20/{device}/value")]
    fn r20(&mut self, device: &str) {
        self.hits[20] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r21/{device}/value")]
    fn r21(&mut self, device: &str) {
        self.hits[21] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r22/{device}/value")]
    fn r22(&mut self, device: &str) {
        self.hits[22] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r23/{device}/value")]
    fn r23(&mut self, device: &str) {
        self.hits[23] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r24/{device}/value")]
    fn r24(&mut self, device: &str) {
        self.hits[24] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r25/{device}/value")]
    fn r25(&mut self, device: &str) {
        self.hits[25] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r26/{device}/value")]
    fn r26(&mut self, device: &str) {
        self.hits[26] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r27/{device}/value")]
    fn r27(&mut self, device: &str) {
        self.hits[27] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r28/{device}/value")]
    fn r28(&mut self, device: &str) {
        self.hits[28] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r29/{device}/value")]
    fn r29(&mut self, device: &str) {
        self.hits[29] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r30/{device}/value")]
    fn r30(&mut self, device: &str) {
        self.hits[30] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r31/{device}/value")]
    fn r31(&mut self, device: &str) {
        self.hits[31] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r32/{device}/value")]
    fn r32(&mut self, device: &str) {
        self.hits[32] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r33/{device}/value")]
    fn r33(&mut self, device: &str) {
        self.hits[33] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r34/{device}/value")]
    fn r34(&mut self, device: &str) {
        self.hits[34] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r35/{device}/value")]
    fn r35(&mut self, device: &str) {
        self.hits[35] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r36/{device}/value")]
    fn r36(&mut self, device: &str) {
        self.hits[36] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r37/{device}/value")]
    fn r37(&mut self, device: &str) {
        self.hits[37] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r38/{device}/value")]
    fn r38(&mut self, device: &str) {
        self.hits[38] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r39/{device}/value")]
    fn r39(&mut self, device: &str) {
        self.hits[39] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r40/{device}/value")]
    fn r40(&mut self, device: &str) {
        self.hits[40] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r41/{device}/value")]
    fn r41(&mut self, device: &str) {
        self.hits[41] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r42/{device}/value")]
    fn r42(&mut self, device: &str) {
        self.hits[42] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r43/{device}/value")]
    fn r43(&mut self, device: &str) {
        self.hits[43] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r44/{device}/value")]
    fn r44(&mut self, device: &str) {
        self.hits[44] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r45/{device}/value")]
    fn r45(&mut self, device: &str) {
        self.hits[45] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r46/{device}/value")]
    fn r46(&mut self, device: &str) {
        self.hits[46] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r47/{device}/value")]
    fn r47(&mut self, device: &str) {
        self.hits[47] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r48/{device}/value")]
    fn r48(&mut self, device: &str) {
        self.hits[48] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r49/{device}/value")]
    fn r49(&mut self, device: &str) {
        self.hits[49] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r50/{device}/value")]
    fn r50(&mut self, device: &str) {
        self.hits[50] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r51/{device}/value")]
    fn r51(&mut self, device: &str) {
        self.hits[51] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r52/{device}/value")]
    fn r52(&mut self, device: &str) {
        self.hits[52] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r53/{device}/value")]
    fn r53(&mut self, device: &str) {
        self.hits[53] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r54/{device}/value")]
    fn r54(&mut self, device: &str) {
        self.hits[54] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r55/{device}/value")]
    fn r55(&mut self, device: &str) {
        self.hits[55] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r56/{device}/value")]
    fn r56(&mut self, device: &str) {
        self.hits[56] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r57/{device}/value")]
    fn r57(&mut self, device: &str) {
        self.hits[57] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r58/{device}/value")]
    fn r58(&mut self, device: &str) {
        self.hits[58] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r59/{device}/value")]
    fn r59(&mut self, device: &str) {
        self.hits[59] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r60/{device}/value")]
    fn r60(&mut self, device: &str) {
        self.hits[60] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r61/{device}/value")]
    fn r61(&mut self, device: &str) {
        self.hits[61] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r62/{device}/value")]
    fn r62(&mut self, device: &str) {
        self.hits[62] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r63/{device}/value")]
    fn r63(&mut self, device: &str) {
        self.hits[63] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r64/{device}/value")]
    fn r64(&mut self, device: &str) {
        self.hits[64] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r65/{device}/value")]
    fn r65(&mut self, device: &str) {
        self.hits[65] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r66/{device}/value")]
    fn r66(&mut self, device: &str) {
        self.hits[66] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r67/{device}/value")]
    fn r67(&mut self, device: &str) {
        self.hits[67] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r68/{device}/value")]
    fn r68(&mut self, device: &str) {
        self.hits[68] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r69/{device}/value")]
    fn r69(&mut self, device: &str) {
        self.hits[69] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r70/{device}/value")]
    fn r70(&mut self, device: &str) {
        self.hits[70] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r71/{device}/value")]
    fn r71(&mut self, device: &str) {
        self.hits[71] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r72/{device}/value")]
    fn r72(&mut self, device: &str) {
        self.hits[72] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r73/{device}/value")]
    fn r73(&mut self, device: &str) {
        self.hits[73] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r74/{device}/value")]
    fn r74(&mut self, device: &str) {
        self.hits[74] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r75/{device}/value")]
    fn r75(&mut self, device: &str) {
        self.hits[75] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r76/{device}/value")]
    fn r76(&mut self, device: &str) {
        self.hits[76] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r77/{device}/value")]
    fn r77(&mut self, device: &str) {
        self.hits[77] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r78/{device}/value")]
    fn r78(&mut self, device: &str) {
        self.hits[78] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r79/{device}/value")]
    fn r79(&mut self, device: &str) {
        self.hits[79] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r80/{device}/value")]
    fn r80(&mut self, device: &str) {
        self.hits[80] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r81/{device}/value")]
    fn r81(&mut self, device: &str) {
        self.hits[81] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r82/{device}/value")]
    fn r82(&mut self, device: &str) {
        self.hits[82] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r83/{device}/value")]
    fn r83(&mut self, device: &str) {
        self.hits[83] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r84/{device}/value")]
    fn r84(&mut self, device: &str) {
        self.hits[84] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r85/{device}/value")]
    fn r85(&mut self, device: &str) {
        self.hits[85] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r86/{device}/value")]
    fn r86(&mut self, device: &str) {
        self.hits[86] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r87/{device}/value")]
    fn r87(&mut self, device: &str) {
        self.hits[87] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r88/{device}/value")]
    fn r88(&mut self, device: &str) {
        self.hits[88] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r89/{device}/value")]
    fn r89(&mut self, device: &str) {
        self.hits[89] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r90/{device}/value")]
    fn r90(&mut self, device: &str) {
        self.hits[90] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r91/{device}/value")]
    fn r91(&mut self, device: &str) {
        self.hits[91] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r92/{device}/value")]
    fn r92(&mut self, device: &str) {
        self.hits[92] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r93/{device}/value")]
    fn r93(&mut self, device: &str) {
        self.hits[93] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r94/{device}/value")]
    fn r94(&mut self, device: &str) {
        self.hits[94] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r95/{device}/value")]
    fn r95(&mut self, device: &str) {
        self.hits[95] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r96/{device}/value")]
    fn r96(&mut self, device: &str) {
        self.hits[96] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r97/{device}/value")]
    fn r97(&mut self, device: &str) {
        self.hits[97] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r98/{device}/value")]
    fn r98(&mut self, device: &str) {
        self.hits[98] += 1;
        self.total_len += device.len();
    }

    #[subscribe("bench/r99/{device}/value")]
    fn r99(&mut self, device: &str) {
        self.hits[99] += 1;
        self.total_len += device.len();
    }

    #[message]
    fn other(&mut self, msg: &Publish) {
        self.hits[100] += 1;
        self.total_len += msg.topic.len();
    }
}

fn filters() -> Vec<String> {
    (0..100).map(|i| format!("bench/r{i}/+/value")).collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch_100_routes");
    let cases = [
        (
            "first_route",
            Publish::new("bench/r0/device-17/value", "21.5"),
            None,
        ),
        (
            "last_route",
            Publish::new("bench/r99/device-17/value", "21.5"),
            None,
        ),
        (
            "catch_all_miss",
            Publish::new("elsewhere/r99/device-17/value", "21.5"),
            None,
        ),
        (
            "last_route_by_identifier",
            Publish::new("bench/r99/device-17/value", "21.5"),
            Some(100),
        ),
    ];
    for (name, mut publish, identifier) in cases {
        if let Some(id) = identifier {
            publish.properties.subscription_identifiers.push(id);
        }
        let event = HandlerEvent::Message(publish);
        let mut handler = Hundred::default();
        mqttx::__private::detached_context(|ctx| {
            group.bench_function(format!("macro/{name}"), |b| {
                b.iter(|| black_box(handler.handle(black_box(&event), ctx)))
            });
        });
        assert!(handler.hits.iter().sum::<u64>() > 0);
    }
    let filters = filters();
    for (name, topic) in [
        ("first_route", "bench/r0/device-17/value"),
        ("last_route", "bench/r99/device-17/value"),
        ("catch_all_miss", "elsewhere/r99/device-17/value"),
    ] {
        group.bench_function(format!("linear_scan/{name}"), |b| {
            b.iter(|| {
                let topic = black_box(topic);
                black_box(filters.iter().position(|f| matches(f, topic)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
