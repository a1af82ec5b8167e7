//! Calls over the scripted server: the default response topic comes from
//! the server's Response Information, asked for in CONNECT.

use super::*;
use crate::packet::ConnAckProperties;

#[actix::test]
async fn the_default_response_topic_is_derived_from_the_servers_response_information() {
    let (mut rig, _gate) = start(options("c1"), vec![], false);
    let mut peer = rig.network.accept().await;
    let Packet::Connect(connect) = peer.expect().await else {
        panic!("first comes CONNECT");
    };
    assert_eq!(
        connect.properties.request_response_information,
        Some(true),
        "the client asks for Response Information"
    );
    let properties = ConnAckProperties {
        response_information: Some("rr/c1-7f3a".into()),
        ..ConnAckProperties::default()
    };
    let accept = ConnAck {
        properties: properties.into(),
        ..ConnAck::default()
    };
    peer.write(Packet::ConnAck(accept)).await;
    rig.first_outcome().await.expect("accepted");

    let call = rig.client.call("svc", "ping").into_future();
    let Packet::Subscribe(subscribe) = peer.expect().await else {
        panic!("the response topic is subscribed to first");
    };
    assert_eq!(subscribe.filters[0].0, "rr/c1-7f3a/responses");
    let Packet::Publish(request) = peer.expect().await else {
        panic!("then the request");
    };
    assert_eq!(
        request.properties.response_topic.as_deref(),
        Some("rr/c1-7f3a/responses")
    );
    let correlation = request
        .properties
        .correlation_data
        .clone()
        .expect("correlation data");

    let mut response = Publish::new("rr/c1-7f3a/responses", "pong");
    response.properties.correlation_data = Some(correlation);
    peer.write(Packet::Publish(response)).await;
    let answer = within(call).await.expect("answered");
    assert_eq!(&answer.payload[..], b"pong");
}
