//! The scenarios for rumqttc, written once for its MQTT 3.1.1 and MQTT 5
//! clients: their types differ but their APIs match, so each module brings
//! its own types, `start`, `echo_payload` and names, then expands this.

/// Expands to the scenario functions. The module must have in scope:
/// `AsyncClient`, `Event`, `EventLoop`, `Packet`, `QoS`, `start(port, id)`,
/// `echo_payload(&Publish)`, and the `PREFIX`, `TOPIC`, `PING`, `PONG` and
/// `FANIN` names.
macro_rules! rumqttc_scenarios {
    () => {
        use std::time::{Duration, Instant};

        use tokio::sync::mpsc;

        use crate::measure::rss_bytes;
        use crate::mqttx_client::round_trips;
        use crate::report::Row;
        use crate::tally::{payload, settle, share, SharedTally, Tally};
        use crate::{pipeline, window};

        /// mqttx's QoS as rumqttc's.
        fn qos(q: mqttx::QoS) -> QoS {
            match q {
                mqttx::QoS::AtMostOnce => QoS::AtMostOnce,
                mqttx::QoS::AtLeastOnce => QoS::AtLeastOnce,
                mqttx::QoS::ExactlyOnce => QoS::ExactlyOnce,
            }
        }

        /// What an event loop reports back to the measuring code.
        enum Seen {
            Connected,
            Subscribed,
            Message,
            /// The event loop ended (after a disconnect, or an error).
            Closed,
        }

        /// Polls an event loop on its own task: every publish goes to `tally` (if
        /// any), milestones to `events`, and `echo` answers pings.
        fn drive(
            mut eventloop: EventLoop,
            tally: Option<SharedTally>,
            events: mpsc::UnboundedSender<Seen>,
            echo: Option<(AsyncClient, QoS)>,
        ) {
            actix::spawn(async move {
                loop {
                    match eventloop.poll().await {
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            if let Some((client, q)) = &echo {
                                let _ = client.try_publish(PONG, *q, false, echo_payload(&p));
                            }
                            match &tally {
                                Some(t) => t.borrow_mut().record(&p.payload),
                                // Only a pinger waits for each message; a
                                // tallied stream would fill the channel.
                                None => {
                                    let _ = events.send(Seen::Message);
                                }
                            }
                        }
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            let _ = events.send(Seen::Connected);
                        }
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            let _ = events.send(Seen::Subscribed);
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                let _ = events.send(Seen::Closed);
            });
        }

        async fn until(events: &mut mpsc::UnboundedReceiver<Seen>, want: fn(&Seen) -> bool) -> bool {
            loop {
                match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
                    Ok(Some(seen)) if want(&seen) => return true,
                    Ok(Some(_)) => {}
                    _ => return false,
                }
            }
        }

        pub async fn throughput(port: u16, q: mqttx::QoS, count: u32) -> Row {
            let tally = Tally::shared(count);
            let (sub, sub_loop) = start(port, format!("{PREFIX}-sub"));
            let (tx, mut rx) = mpsc::unbounded_channel();
            drive(sub_loop, Some(tally.clone()), tx, None);
            sub.subscribe(TOPIC, qos(q))
                .await
                .expect("subscribe queued");
            until(&mut rx, |s| matches!(s, Seen::Subscribed)).await;

            let (publisher, pub_loop) = start(port, format!("{PREFIX}-pub"));
            let (ptx, mut prx) = mpsc::unbounded_channel();
            drive(pub_loop, None, ptx, None);
            until(&mut prx, |s| matches!(s, Seen::Connected)).await;

            let start = Instant::now();
            for n in 0..count {
                if publisher
                    .publish(TOPIC, qos(q), false, payload(n))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            let outcome = settle(&tally, start).await;
            let _ = publisher.disconnect().await;
            let _ = sub.disconnect().await;
            Row {
                messages: u64::from(count),
                elapsed: outcome.elapsed,
                lost: outcome.lost,
                duplicates: outcome.duplicates,
                ..Row::default()
            }
        }

        /// Broker-less, row (h): as `mqttx_client::firehose`.
        pub async fn firehose(port: u16, q: mqttx::QoS, count: u32) -> Row {
            let tally = Tally::shared(count);
            let (client, eventloop) = start(port, format!("{PREFIX}-firehose"));
            let (tx, mut rx) = mpsc::unbounded_channel();
            drive(eventloop, Some(tally.clone()), tx, None);
            until(&mut rx, |s| matches!(s, Seen::Connected)).await;
            let start = Instant::now();
            client
                .subscribe(crate::standin::TOPIC, qos(q))
                .await
                .expect("subscribe queued");
            let outcome = settle(&tally, start).await;
            let _ = client.disconnect().await;
            Row {
                messages: u64::from(count),
                elapsed: outcome.elapsed,
                lost: outcome.lost,
                duplicates: outcome.duplicates,
                ..Row::default()
            }
        }

        /// Broker-less, row (i): as `mqttx_client::sink`, timed until the
        /// event loop has written the DISCONNECT queued after the messages.
        pub async fn sink(port: u16, q: mqttx::QoS, count: u32) -> Row {
            let (client, eventloop) = start(port, format!("{PREFIX}-sink"));
            let (tx, mut rx) = mpsc::unbounded_channel();
            drive(eventloop, None, tx, None);
            until(&mut rx, |s| matches!(s, Seen::Connected)).await;
            let start = Instant::now();
            for n in 0..count {
                if client
                    .publish(TOPIC, qos(q), false, payload(n))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            let _ = client.disconnect().await;
            until(&mut rx, |s| matches!(s, Seen::Closed)).await;
            Row {
                messages: u64::from(count),
                elapsed: start.elapsed(),
                ..Row::default()
            }
        }

        pub async fn latency(port: u16, q: mqttx::QoS, n: u32) -> Row {
            let (echo, echo_loop) = start(port, format!("{PREFIX}-echo"));
            let (etx, mut erx) = mpsc::unbounded_channel();
            drive(echo_loop, None, etx, Some((echo.clone(), qos(q))));
            echo.subscribe(PING, qos(q))
                .await
                .expect("subscribe queued");
            until(&mut erx, |s| matches!(s, Seen::Subscribed)).await;

            let (pinger, ping_loop) = start(port, format!("{PREFIX}-ping"));
            let (tx, mut rx) = mpsc::unbounded_channel();
            drive(ping_loop, None, tx, None);
            pinger
                .subscribe(PONG, qos(q))
                .await
                .expect("subscribe queued");
            until(&mut rx, |s| matches!(s, Seen::Subscribed)).await;

            let row = round_trips(n, async |i| {
                let _ = pinger.publish(PING, qos(q), false, payload(i)).await;
                until(&mut rx, |s| matches!(s, Seen::Message)).await
            })
            .await;
            let _ = pinger.disconnect().await;
            let _ = echo.disconnect().await;
            row
        }

        pub async fn fan_in(port: u16, connections: u32, count: u32) -> Row {
            let tally = Tally::shared(count);
            let (sub, sub_loop) = start(port, format!("{PREFIX}-fanin-sub"));
            let (tx, mut rx) = mpsc::unbounded_channel();
            drive(sub_loop, Some(tally.clone()), tx, None);
            sub.subscribe(FANIN, QoS::AtLeastOnce)
                .await
                .expect("subscribe queued");
            until(&mut rx, |s| matches!(s, Seen::Subscribed)).await;

            let rss_before = rss_bytes();
            let (ctx, mut crx) = mpsc::unbounded_channel();
            let mut publishers = Vec::new();
            for c in 0..connections {
                let (client, eventloop) = start(port, format!("{PREFIX}-fanin-{c}"));
                drive(eventloop, None, ctx.clone(), None);
                publishers.push(client);
            }
            for _ in 0..connections {
                until(&mut crx, |s| matches!(s, Seen::Connected)).await;
            }
            let start = Instant::now();
            let tasks: Vec<_> = publishers
                .iter()
                .enumerate()
                .map(|(c, client)| {
                    let client = client.clone();
                    let c = c as u32;
                    let seqs = share(c, connections, count);
                    actix::spawn(async move {
                        let topic = format!("bench/{PREFIX}/fanin/{c}");
                        for n in seqs {
                            if client
                                .publish(topic.as_str(), QoS::AtLeastOnce, false, payload(n))
                                .await
                                .is_err()
                            {
                                break;
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                let _ = task.await;
            }
            let outcome = settle(&tally, start).await;
            let rss = rss_bytes().saturating_sub(rss_before);
            Row {
                messages: u64::from(count),
                elapsed: outcome.elapsed,
                lost: outcome.lost,
                duplicates: outcome.duplicates,
                note: format!(
                    "{:.1} MB resident for {connections} publishers",
                    rss as f64 / 1e6
                ),
                ..Row::default()
            }
        }

        pub async fn scale(port: u16, n: u32) -> Row {
            let rss_before = rss_bytes();
            let start = Instant::now();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let mut clients = Vec::with_capacity(n as usize);
            for i in 0..n {
                let (client, eventloop) = start_idle(port, i);
                drive(eventloop, None, tx.clone(), None);
                clients.push(client);
            }
            let mut connected = 0;
            while connected < n && until(&mut rx, |s| matches!(s, Seen::Connected)).await {
                connected += 1;
            }
            let elapsed = start.elapsed();
            let rss = rss_bytes().saturating_sub(rss_before);
            Row {
                elapsed,
                lost: n - connected,
                rss_per_connection: Some(rss as f64 / f64::from(connected.max(1))),
                note: format!("{connected} connections"),
                ..Row::default()
            }
        }

        fn start_idle(port: u16, i: u32) -> (AsyncClient, EventLoop) {
            start(port, format!("{PREFIX}-idle-{i}"))
        }
    };
}
