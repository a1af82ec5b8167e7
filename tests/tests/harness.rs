//! Tests of the broker harness itself, with hand-written MQTT 3.1.1 bytes
//! over std sockets (they do not use the mqttx client).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use mqttx_tests::{Broker, HarnessError, PasswordHashing};

/// CONNECT, MQTT 3.1.1, clean session, keep-alive 60 s, empty client id.
const CONNECT: [u8; 14] = [
    0x10, 0x0c, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00,
];
/// CONNACK: no session present, accepted.
const CONNACK_OK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];
/// How long a reply may take before a test fails.
const REPLY: Duration = Duration::from_secs(5);

fn connect(port: u16) -> TcpStream {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, REPLY).unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// Read exactly `n` bytes, or fail once `within` has passed.
fn read_within(stream: &mut TcpStream, n: usize, within: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut buf = vec![0; n];
    let mut filled = 0;
    while filled < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => filled += k,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(io::ErrorKind::TimedOut.into())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}

/// A CONNECT for MQTT 3.1.1 with keep-alive 60 s.
fn connect_packet(client_id: &str, clean_session: bool, credentials: Option<(&str, &str)>) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&u16::try_from(s.len()).unwrap().to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut flags = if clean_session { 0x02 } else { 0x00 };
    if credentials.is_some() {
        flags |= 0xc0;
    }
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, flags, 0x00, 0x3c];
    string(&mut body, client_id);
    if let Some((user, password)) = credentials {
        string(&mut body, user);
        string(&mut body, password);
    }
    let mut packet = vec![0x10, u8::try_from(body.len()).unwrap()];
    packet.extend_from_slice(&body);
    packet
}

/// Send `connect` and return the CONNACK's two variable-header bytes
/// (session present, return code).
fn connack(port: u16, connect_bytes: &[u8]) -> [u8; 2] {
    let mut stream = connect(port);
    stream.write_all(connect_bytes).unwrap();
    let reply = read_within(&mut stream, 4, REPLY).expect("CONNACK");
    assert_eq!(reply[..2], [0x20, 0x02], "not a CONNACK: {reply:02x?}");
    [reply[2], reply[3]]
}

fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn starts_and_answers_a_connect() {
    let broker = Broker::start().unwrap();
    assert_ne!(broker.port(), 1883, "must never use the machine's own broker");
    assert_eq!(broker.host(), "127.0.0.1");
    assert_eq!(broker.url(), format!("mqtt://127.0.0.1:{}", broker.port()));

    let mut stream = connect(broker.port());
    stream.write_all(&CONNECT).unwrap();
    assert_eq!(
        read_within(&mut stream, 4, REPLY).unwrap(),
        CONNACK_OK,
        "log:\n{}",
        broker.log()
    );
    assert!(
        broker.log().contains("mosquitto version"),
        "log:\n{}",
        broker.log()
    );
}

#[test]
fn two_brokers_get_different_ports() {
    let a = Broker::start().unwrap();
    let b = Broker::start().unwrap();
    assert_ne!(a.port(), b.port());
    assert_eq!(connack(a.port(), &CONNECT), [0, 0]);
    assert_eq!(connack(b.port(), &CONNECT), [0, 0]);
}

#[test]
fn stop_then_start_again_keeps_the_port() {
    let mut broker = Broker::start().unwrap();
    let port = broker.port();
    // A connection open across the stop: the broker closes it first, which
    // leaves its side in TIME_WAIT on the port.
    let mut held = connect(port);
    held.write_all(&CONNECT).unwrap();
    assert_eq!(read_within(&mut held, 4, REPLY).unwrap(), CONNACK_OK);
    broker.stop().unwrap();
    assert!(!broker.is_running());
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "nothing listens after stop"
    );
    assert!(matches!(broker.stop(), Err(HarnessError::NotRunning)));

    broker.start_again().unwrap();
    drop(held);
    assert_eq!(broker.port(), port);
    assert_eq!(connack(port, &CONNECT), [0, 0], "log:\n{}", broker.log());
    assert!(matches!(broker.start_again(), Err(HarnessError::AlreadyRunning)));
}

#[test]
fn kill_then_start_again_keeps_a_persistent_session() {
    let mut broker = Broker::builder().persistence(true).start().unwrap();
    let dir = broker.persistence_dir().expect("persistence dir").to_owned();
    let persistent = connect_packet("keeper", false, None);

    // A persistent session with one subscription: a change autosave writes.
    let mut stream = connect(broker.port());
    stream.write_all(&persistent).unwrap();
    assert_eq!(read_within(&mut stream, 4, REPLY).unwrap(), CONNACK_OK);
    // SUBSCRIBE id 1 to "a/b" at QoS 1, and its SUBACK.
    stream
        .write_all(&[0x82, 0x08, 0x00, 0x01, 0x00, 0x03, b'a', b'/', b'b', 0x01])
        .unwrap();
    assert_eq!(
        read_within(&mut stream, 5, REPLY).unwrap(),
        [0x90, 0x03, 0x00, 0x01, 0x01]
    );
    let db = dir.join("mosquitto.db");
    wait_for("the persistence database", REPLY, || db.exists());

    broker.kill().unwrap();
    drop(stream);
    assert!(db.exists());
    broker.start_again().unwrap();
    assert!(db.exists());
    assert_eq!(
        connack(broker.port(), &persistent),
        [0x01, 0x00],
        "session present after SIGKILL + restart; log:\n{}",
        broker.log()
    );
}

#[test]
fn drop_kills_the_process() {
    let broker = Broker::start().unwrap();
    let pid = broker.pid().unwrap();
    let proc_dir = format!("/proc/{pid}");
    assert!(Path::new(&proc_dir).exists());
    let dir = broker.dir().to_owned();
    drop(broker);
    // Drop waits for the process, so it is gone, not a zombie.
    assert!(
        !Path::new(&proc_dir).exists(),
        "process {pid} still there after drop"
    );
    assert!(!dir.exists(), "temporary directory removed");
}

#[test]
fn pause_leaves_a_connect_unanswered_until_resume() {
    let mut broker = Broker::start().unwrap();
    broker.pause().unwrap();
    // The kernel still completes the TCP handshake for a paused process.
    let mut stream = connect(broker.port());
    stream.write_all(&CONNECT).unwrap();
    let err = read_within(&mut stream, 4, Duration::from_millis(500)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);

    broker.resume().unwrap();
    assert_eq!(read_within(&mut stream, 4, REPLY).unwrap(), CONNACK_OK);
}

#[test]
fn stop_works_on_a_paused_broker() {
    let mut broker = Broker::start().unwrap();
    broker.pause().unwrap();
    broker.stop().unwrap();
    broker.start_again().unwrap();
    assert_eq!(connack(broker.port(), &CONNECT), [0, 0]);
}

fn check_passwords(hashing: PasswordHashing) {
    let broker = Broker::builder()
        .password("alice", "s3cret")
        .password("bob", "hunter2")
        .password_hashing(hashing)
        .allow_anonymous(false)
        .start()
        .unwrap();
    let port = broker.port();
    let log = || broker.log();
    assert_eq!(
        connack(port, &connect_packet("a", true, Some(("alice", "s3cret")))),
        [0, 0],
        "{}",
        log()
    );
    assert_eq!(
        connack(port, &connect_packet("b", true, Some(("bob", "hunter2")))),
        [0, 0],
        "{}",
        log()
    );
    let [_, wrong] = connack(port, &connect_packet("c", true, Some(("alice", "nope"))));
    assert_ne!(wrong, 0, "wrong password refused");
    let [_, anonymous] = connack(port, &CONNECT);
    assert_ne!(anonymous, 0, "anonymous refused");
}

#[test]
fn password_file_from_mosquitto_passwd() {
    check_passwords(PasswordHashing::Auto);
}

#[test]
fn password_file_from_builtin_hashing() {
    check_passwords(PasswordHashing::Builtin);
}

#[test]
fn extra_listener_gets_its_own_port() {
    let broker = Broker::builder()
        .listener_extra("second", "protocol mqtt")
        .start()
        .unwrap();
    let second = broker
        .listener_port("second")
        .expect("port of the extra listener");
    assert_ne!(second, broker.port());
    assert_eq!(broker.listener_port("missing"), None);
    assert_eq!(connack(second, &CONNECT), [0, 0]);
    assert_eq!(connack(broker.port(), &CONNECT), [0, 0]);
}

#[test]
fn limits_are_written_to_the_config() {
    let broker = Broker::builder()
        .max_inflight_messages(3)
        .max_queued_messages(7)
        .extra_config("max_keepalive 120")
        .start()
        .unwrap();
    let config = std::fs::read_to_string(broker.config_path()).unwrap();
    for line in [
        "max_inflight_messages 3",
        "max_queued_messages 7",
        "max_keepalive 120",
    ] {
        assert!(
            config.lines().any(|l| l == line),
            "{line:?} missing from:\n{config}"
        );
    }
    assert_eq!(connack(broker.port(), &CONNECT), [0, 0]);
}

#[test]
fn a_broker_that_cannot_start_reports_its_log() {
    let err = Broker::builder()
        .extra_config("no_such_option 1")
        .start()
        .unwrap_err();
    let HarnessError::Exited { log, .. } = &err else {
        panic!("expected Exited, got {err:?}")
    };
    assert!(log.contains("no_such_option"), "log:\n{log}");
    assert!(err.to_string().contains("no_such_option"));
}

#[test]
fn a_missing_mosquitto_names_the_install_command() {
    let message = HarnessError::MosquittoNotFound.to_string();
    assert!(
        message.contains("sudo apt-get install -y mosquitto mosquitto-clients"),
        "{message}"
    );
    assert!(message.contains(".ci/run"), "{message}");
}

#[test]
fn start_again_waits_for_a_port_another_process_holds() {
    let mut broker = Broker::start().unwrap();
    let port = broker.port();
    let log_path = broker.dir().join("mosquitto.log");
    broker.stop().unwrap();
    let squatter = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();

    let restart = std::thread::spawn(move || broker.start_again().map(|()| broker));
    wait_for("a failed bind in the log", REPLY, || {
        std::fs::read_to_string(&log_path).is_ok_and(|log| log.contains("Address already in use"))
    });
    drop(squatter);
    let broker = restart.join().unwrap().unwrap();
    assert_eq!(broker.port(), port);
    assert_eq!(connack(port, &CONNECT), [0, 0], "log:\n{}", broker.log());
}
