//! The actix-web example's page in a real headless browser: Chromium loads
//! `GET /`, its `EventSource` goes live, and a message published after the
//! page loaded shows up in the page's list.
//!
//! Chromium must be installed (`sudo apt-get install -y
//! --no-install-recommends chromium`; `.ci/run` installs it when missing).
//! The test drives it over the Chrome DevTools Protocol (CDP): a WebSocket
//! carrying JSON commands, each answered by a message with the same id.

#[path = "../../examples/actix_web.rs"]
#[allow(dead_code)]
mod example;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use example::Connections;
use futures_util::{SinkExt, StreamExt};
use mqttx_tests::support::WAIT;
use mqttx_tests::Broker;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How long the page may take to go live, and the message to show up.
const PAGE_WAIT: Duration = Duration::from_secs(15);
/// How often the page's state is read while waiting.
const POLL: Duration = Duration::from_millis(75);
/// How long Chromium may take to start (a cold start on a busy 2-core CI
/// machine takes seconds) and to exit once asked.
const BROWSER_WAIT: Duration = Duration::from_secs(30);

/// The example's whole service on a free port, over `broker`.
struct Service {
    base: String,
    handle: ServerHandle,
    connections: Connections,
}

impl Service {
    async fn start(broker: &Broker) -> Service {
        let connections = Connections::start(&broker.url())
            .await
            .expect("the example's clients connect to mosquitto");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port for HTTP");
        let address = listener.local_addr().expect("the HTTP listener's address");
        let server = example::http_server(connections.client.clone(), connections.readings.clone(), listener)
            .expect("the example's HTTP server starts");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Service {
            base: format!("http://{address}"),
            handle,
            connections,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// HTTP first, then the clients: the example's shutdown order.
    async fn stop(self) {
        self.handle.stop(true).await;
        self.connections
            .stop()
            .await
            .expect("the example's clients disconnect");
    }
}

/// A headless Chromium with its own profile directory, on a DevTools port
/// it picked itself. Killed (with its helper processes) if dropped before
/// [`Chromium::close`].
struct Chromium {
    child: Child,
    /// The profile (`profile/`) and Chromium's log (`chromium.log`).
    dir: tempfile::TempDir,
}

impl Chromium {
    /// `chromium` on `PATH`, else Debian's `/usr/bin/chromium`; fails the
    /// test, saying how to install it, when there is neither.
    fn executable() -> PathBuf {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("chromium"))
            .find(|candidate| is_executable(candidate))
            .unwrap_or_else(|| {
                panic!(
                    "chromium is not installed: this test loads the actix-web example's page in a \
                     headless browser. Install it with `sudo apt-get install -y \
                     --no-install-recommends chromium` (`.ci/run` installs it when missing)."
                )
            })
    }

    fn launch() -> Chromium {
        let executable = Chromium::executable();
        let dir = tempfile::tempdir().expect("a temporary directory for Chromium's profile");
        let log = std::fs::File::create(dir.path().join("chromium.log")).expect("Chromium's log file");
        let child = Command::new(&executable)
            .args([
                "--headless=new",
                // CI runs as root, where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-port=0",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("Chromium's log file, twice"))
            .stderr(log)
            // Its own process group: the zygote and renderers go with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", executable.display()));
        Chromium { child, dir }
    }

    /// The end of Chromium's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The DevTools port, from the `DevToolsActivePort` file Chromium writes
    /// into its profile once it listens.
    async fn devtools_port(&mut self) -> u16 {
        let file = self.dir.path().join("profile").join("DevToolsActivePort");
        let deadline = Instant::now() + BROWSER_WAIT;
        loop {
            // The first line is the port; the file may still be half-written.
            if let Ok(text) = std::fs::read_to_string(&file) {
                if let Some(port) = text.lines().next().and_then(|line| line.trim().parse().ok()) {
                    return port;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Chromium exited ({status}) before it listened:\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {} within {BROWSER_WAIT:?}:\n{}",
                file.display(),
                self.log_tail()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// A CDP connection to the browser's one page (the `about:blank` it
    /// opened with).
    async fn page(&mut self) -> Cdp {
        let port = self.devtools_port().await;
        let targets: Vec<Value> = awc::Client::builder()
            .timeout(WAIT)
            .finish()
            .get(format!("http://127.0.0.1:{port}/json/list"))
            .send()
            .await
            .expect("Chromium's DevTools HTTP endpoint answers /json/list")
            .json()
            .await
            .expect("/json/list is a JSON array of targets");
        let page = targets
            .iter()
            .find(|target| target["type"] == "page")
            .unwrap_or_else(|| panic!("no page among Chromium's targets: {targets:#?}"));
        let url = page["webSocketDebuggerUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("a page target without webSocketDebuggerUrl: {page:#}"));
        Cdp::connect(url).await
    }

    /// Asks the browser to close, and waits for it to exit.
    async fn close(mut self, mut page: Cdp) {
        page.send("Browser.close", json!({})).await;
        let deadline = Instant::now() + BROWSER_WAIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => {}
                Err(err) => panic!("cannot wait for Chromium: {err}"),
            }
            assert!(
                Instant::now() < deadline,
                "Chromium still running {BROWSER_WAIT:?} after Browser.close:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The group Chromium leads (its pid): the browser and its helpers.
            let group = -(self.child.id() as libc::pid_t);
            unsafe { libc::kill(group, libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// One CDP session: commands out, each answer matched by its id; the events
/// in between are skipped.
struct Cdp {
    socket: WebSocketStream<TcpStream>,
    last_id: u64,
}

impl Cdp {
    async fn connect(url: &str) -> Cdp {
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("not a ws:// URL: {url}"));
        let tcp = TcpStream::connect(address)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to DevTools at {address}: {err}"));
        let (socket, _) = tokio_tungstenite::client_async(url, tcp)
            .await
            .unwrap_or_else(|err| panic!("DevTools WebSocket handshake with {url}: {err}"));
        Cdp { socket, last_id: 0 }
    }

    /// Sends a command; its id.
    async fn send(&mut self, method: &str, params: Value) -> u64 {
        self.last_id += 1;
        let command = json!({ "id": self.last_id, "method": method, "params": params });
        self.socket
            .send(Message::text(command.to_string()))
            .await
            .unwrap_or_else(|err| panic!("cannot send {method}: {err}"));
        self.last_id
    }

    /// Runs a command; its `result`. Fails the test on a CDP error.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        let answer = tokio::time::timeout(WAIT, async {
            loop {
                let message = self
                    .socket
                    .next()
                    .await
                    .unwrap_or_else(|| panic!("DevTools closed the connection during {method}"))
                    .unwrap_or_else(|err| panic!("reading the answer to {method}: {err}"));
                let Message::Text(text) = message else { continue };
                let mut message: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|err| panic!("DevTools sent something not JSON ({err}): {text}"));
                if message["id"] == id {
                    return message.take();
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} within {WAIT:?}"));
        if let Some(error) = answer.get("error") {
            panic!("{method} failed: {error}");
        }
        answer["result"].clone()
    }

    /// `expression`'s value in the page; `null` when it throws (e.g. before
    /// the page's elements exist).
    async fn evaluate(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Reads the string `expression` every [`POLL`] until `done` holds for
    /// it, for at most [`PAGE_WAIT`]; its last value.
    async fn wait_for(&mut self, expression: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PAGE_WAIT;
        loop {
            let value = self.evaluate(expression).await;
            let text = value.as_str().unwrap_or_default();
            if done(text) {
                return text.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {PAGE_WAIT:?}; `{expression}` is {value}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

#[actix_web::test]
async fn the_page_shows_a_message_published_after_it_loaded() {
    let broker = Broker::start().expect("mosquitto starts");
    let service = Service::start(&broker).await;
    let mut browser = Chromium::launch();
    let mut page = browser.page().await;

    let navigated = page
        .call("Page.navigate", json!({ "url": service.url("/") }))
        .await;
    assert!(
        navigated.get("errorText").is_none(),
        "navigation failed: {navigated}"
    );
    // "live": the EventSource is open, so the stream has subscribed.
    page.wait_for(
        "document.getElementById('status').textContent",
        "the page's event stream goes live",
        |status| status == "live",
    )
    .await;

    let published = awc::Client::builder()
        .timeout(WAIT)
        .finish()
        .post(service.url("/publish/sensors/lab/temp"))
        .send_body(r#"{"celsius": 23.5}"#)
        .await
        .expect("POST /publish answers");
    assert_eq!(published.status(), 200);

    let messages = page
        .wait_for(
            "document.getElementById('messages').innerText",
            "the published message shows on the page",
            |messages| messages.contains("sensors/lab/temp"),
        )
        .await;
    assert_eq!(messages.trim(), r#"sensors/lab/temp: {"celsius": 23.5}"#);

    browser.close(page).await;
    service.stop().await;
}
