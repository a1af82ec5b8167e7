//! rumqttc's MQTT 3.1.1 client in every scenario.

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, NetworkOptions, Packet, Publish, QoS};

const PREFIX: &str = "rumqttc4";
const TOPIC: &str = "bench/rumqttc4";
const PING: &str = "bench/rumqttc4/ping";
const PONG: &str = "bench/rumqttc4/pong";
const FANIN: &str = "bench/rumqttc4/fanin/+";

fn start(port: u16, id: String) -> (AsyncClient, EventLoop) {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_inflight(window())
        .set_keep_alive(Duration::from_secs(60))
        .set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(opts, pipeline());
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    (client, eventloop)
}

fn echo_payload(p: &Publish) -> Vec<u8> {
    p.payload.to_vec()
}

rumqttc_scenarios!();
