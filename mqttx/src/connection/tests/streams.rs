//! A message stream's share of an acknowledgement: the PUBACK waits for
//! the consumer to take the message, not just for the handler.

use super::server::Answer;
use super::*;

#[actix::test]
async fn the_puback_of_a_streamed_message_waits_until_the_consumer_takes_it() {
    let (mut rig, _gate) = start(options("c1"), Vec::<Answer>::new(), false);
    let mut peer = rig.network.accept().await;
    peer.handshake().await;
    rig.first_outcome().await.expect("connected");

    let subscribing = actix::spawn(rig.client.stream("s/t", QoS::AtLeastOnce).into_future());
    let identifier = match peer.expect().await {
        Packet::Subscribe(subscribe) => {
            let identifier = subscribe.properties.subscription_identifier;
            let suback = crate::packet::SubAck {
                packet_id: subscribe.packet_id,
                reason_codes: vec![ReasonCode::GrantedQoS1],
                properties: Default::default(),
            };
            peer.write(Packet::SubAck(suback)).await;
            identifier.expect("a stream names its subscription")
        }
        other => panic!("expected SUBSCRIBE, got {other:?}"),
    };
    let mut stream = within(subscribing).await.expect("joined").expect("subscribed");

    let mut message = Publish::new("s/t", "m").qos(QoS::AtLeastOnce).packet_id(7);
    message.properties.subscription_identifiers = vec![identifier];
    peer.write(Packet::Publish(message)).await;
    // The stream's copy is the stream's alone. A message for the handler
    // after it: once the handler has that one, the stream has its own.
    peer.write(Packet::Publish(Publish::new("sync", "s"))).await;
    while !matches!(rig.event().await, HandlerEvent::Message(m) if m.topic == "sync") {}
    within(rig.client.publish("marker", "after"))
        .await
        .expect("QoS 0 sent");
    match peer.expect().await {
        Packet::Publish(p) => assert_eq!(p.topic, "marker", "no PUBACK before the consumer took it"),
        other => panic!("expected the marker PUBLISH, got {other:?}"),
    }
    assert_eq!(stream.len(), 1);
    let taken = within(stream.recv()).await.expect("the message");
    assert_eq!(taken.payload_str(), Some("m"));
    match peer.expect().await {
        Packet::PubAck(ack) => assert_eq!(ack.packet_id.get(), 7),
        other => panic!("expected PUBACK, got {other:?}"),
    }
}
