//! rumqttc's MQTT 5 client in every scenario.

use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
use rumqttc::NetworkOptions;

const PREFIX: &str = "rumqttc5";
const TOPIC: &str = "bench/rumqttc5";
const PING: &str = "bench/rumqttc5/ping";
const PONG: &str = "bench/rumqttc5/pong";
const FANIN: &str = "bench/rumqttc5/fanin/+";

fn start(port: u16, id: String) -> (AsyncClient, EventLoop) {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    opts.set_outgoing_inflight_upper_limit(window())
        .set_keep_alive(Duration::from_secs(60))
        .set_max_packet_size(Some(1 << 20))
        .set_network_options(network);
    AsyncClient::new(opts, pipeline())
}

fn echo_payload(p: &Publish) -> Bytes {
    p.payload.clone()
}

rumqttc_scenarios!();
