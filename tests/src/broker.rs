//! A real mosquitto broker per test, on its own free loopback port.
//!
//! ```no_run
//! use mqttx_tests::Broker;
//!
//! let broker = Broker::builder().persistence(true).password("alice", "s3cret").start()?;
//! println!("connect to {}", broker.url()); // mqtt://127.0.0.1:PORT
//! # Ok::<(), mqttx_tests::HarnessError>(())
//! ```
//!
//! Each broker gets a fresh temporary directory holding its config file, its
//! log (mosquitto's stdout and stderr), its password file and its
//! persistence database. The directory and the process go away when the
//! [`Broker`] is dropped. The machine's own broker on port 1883 is never
//! used.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::net::{self, Listening};

/// How long a broker gets to listen after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Broker::start_again`] keeps retrying a port still in use.
const REBIND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Broker::stop`] waits for mosquitto to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How many fresh ports a first start tries when another process took one.
const PORT_ATTEMPTS: usize = 5;
/// Between two looks at a starting or stopping broker.
const POLL: Duration = Duration::from_millis(10);

const INSTALL_HINT: &str = "install it with `sudo apt-get install -y mosquitto mosquitto-clients` \
                            (or run `.ci/run`, which installs it when missing)";

/// Everything that can go wrong while running a test broker. Each message
/// carries what is needed to fix it, including mosquitto's log where it has
/// one.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No `mosquitto` executable was found.
    #[error(
        "mosquitto was not found (looked in $MQTTX_MOSQUITTO, on PATH and in /usr/sbin, \
         /usr/local/sbin, /sbin): {INSTALL_HINT}"
    )]
    MosquittoNotFound,
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// mosquitto exited while starting, for a reason other than a port in use.
    #[error("mosquitto exited during start-up ({status}); config {config}; log:\n{log}")]
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// The config file it was given.
        config: PathBuf,
        /// Its log.
        log: String,
    },
    /// mosquitto kept running but did not listen in time.
    #[error("mosquitto did not listen on 127.0.0.1:{port} within {timeout:?}; log:\n{log}")]
    NotListening {
        /// The port it should have listened on.
        port: u16,
        /// How long the harness waited.
        timeout: Duration,
        /// Its log.
        log: String,
    },
    /// The port stayed taken by another process.
    #[error("127.0.0.1:{port} stayed in use by another process for {waited:?}; log:\n{log}")]
    PortInUse {
        /// The port.
        port: u16,
        /// How long the harness tried.
        waited: Duration,
        /// mosquitto's log.
        log: String,
    },
    /// Writing the password file failed.
    #[error("could not write the password file: {0}")]
    Password(String),
    /// The operation needs a running broker.
    #[error("the broker is not running (call start_again first)")]
    NotRunning,
    /// The operation needs a stopped broker.
    #[error("the broker is already running")]
    AlreadyRunning,
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> HarnessError {
    let context = context.into();
    move |source| HarnessError::Io { context, source }
}

/// Where the password hashes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswordHashing {
    /// `mosquitto_passwd -b` when it is found, the built-in hashing otherwise.
    #[default]
    Auto,
    /// The harness's own PBKDF2-SHA512 hashing, in mosquitto 2's format.
    Builtin,
}

/// An additional listener, on its own free port (see
/// [`BrokerBuilder::listener_extra`]).
#[derive(Debug, Clone)]
struct ListenerSpec {
    name: String,
    config: String,
}

/// Configures a [`Broker`]; made by [`Broker::builder`].
#[derive(Debug, Clone)]
pub struct BrokerBuilder {
    persistence: bool,
    users: Vec<(String, String)>,
    hashing: PasswordHashing,
    allow_anonymous: bool,
    max_inflight_messages: Option<u32>,
    max_queued_messages: Option<u32>,
    verbose: bool,
    extra_config: Vec<String>,
    listeners: Vec<ListenerSpec>,
}

impl Default for BrokerBuilder {
    fn default() -> Self {
        BrokerBuilder {
            persistence: false,
            users: Vec::new(),
            hashing: PasswordHashing::Auto,
            allow_anonymous: true,
            max_inflight_messages: None,
            max_queued_messages: None,
            verbose: false,
            extra_config: Vec::new(),
            listeners: Vec::new(),
        }
    }
}

impl BrokerBuilder {
    /// Keep sessions, subscriptions, retained and queued messages in a
    /// database in the broker's directory. Every change is saved at once
    /// (`autosave_on_changes true`, `autosave_interval 1`), so a
    /// [`Broker::kill`] (SIGKILL) followed by [`Broker::start_again`] keeps
    /// them. Note that mosquitto counts subscription changes, retained and
    /// queued messages as changes: a persistent session that has not
    /// subscribed yet is only saved on a clean [`Broker::stop`].
    pub fn persistence(mut self, on: bool) -> Self {
        self.persistence = on;
        self
    }

    /// Add a user to the broker's password file. Anonymous clients stay
    /// allowed unless [`allow_anonymous(false)`](Self::allow_anonymous);
    /// a client naming this user with a wrong password is refused either way.
    pub fn password(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((user.into(), password.into()));
        self
    }

    /// How the password file is hashed; the default uses `mosquitto_passwd`
    /// when found. The harness's own tests use this to check the fallback.
    pub fn password_hashing(mut self, hashing: PasswordHashing) -> Self {
        self.hashing = hashing;
        self
    }

    /// Whether clients without a username may connect (default `true`).
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.allow_anonymous = allow;
        self
    }

    /// mosquitto's `max_inflight_messages`: outgoing QoS 1/2 messages in
    /// flight per client (mosquitto's default is 20; 0 means no limit).
    pub fn max_inflight_messages(mut self, count: u32) -> Self {
        self.max_inflight_messages = Some(count);
        self
    }

    /// mosquitto's `max_queued_messages`: QoS 1/2 messages queued per client
    /// beyond those in flight (mosquitto's default is 1000).
    pub fn max_queued_messages(mut self, count: u32) -> Self {
        self.max_queued_messages = Some(count);
        self
    }

    /// Log every packet (`log_type all`) instead of errors, warnings,
    /// notices and information.
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }

    /// Lines for the global part of the config, written before any
    /// `listener` line (so they are not taken as listener options).
    pub fn extra_config(mut self, lines: &str) -> Self {
        self.extra_config.push(lines.to_owned());
        self
    }

    /// Another listener, on its own free loopback port: the harness writes
    /// `listener PORT 127.0.0.1` followed by `config` (for example
    /// `"protocol websockets"`, or `certfile`/`keyfile` lines for TLS).
    /// [`Broker::listener_port`] gives the port by `name`.
    pub fn listener_extra(mut self, name: impl Into<String>, config: &str) -> Self {
        self.listeners.push(ListenerSpec {
            name: name.into(),
            config: config.to_owned(),
        });
        self
    }

    /// Start the broker and wait until it accepts connections on every
    /// listener. A port that another process took meanwhile is replaced by a
    /// fresh one and the start retried.
    pub fn start(self) -> Result<Broker, HarnessError> {
        let exe = find_mosquitto()?;
        let dir = tempfile::Builder::new()
            .prefix("mqttx-broker-")
            .tempdir()
            .map_err(io_err("creating the broker's temporary directory"))?;
        let password_file = if self.users.is_empty() {
            None
        } else {
            let path = dir.path().join("passwd");
            write_password_file(&path, &self.users, self.hashing, &exe)?;
            Some(path)
        };
        let persistence_dir = if self.persistence {
            let path = dir.path().join("persistence");
            fs::create_dir(&path).map_err(io_err("creating the persistence directory"))?;
            Some(path)
        } else {
            None
        };
        let mut broker = Broker {
            exe,
            config_path: dir.path().join("mosquitto.conf"),
            log_path: dir.path().join("mosquitto.log"),
            password_file,
            persistence_dir,
            port: 0,
            extra_ports: Vec::new(),
            child: None,
            paused: false,
            settings: self,
            dir,
        };
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            broker.port = net::free_port().map_err(io_err("finding a free port"))?;
            broker.extra_ports = Vec::new();
            for spec in &broker.settings.listeners {
                let port = net::free_port().map_err(io_err("finding a free port"))?;
                broker.extra_ports.push((spec.name.clone(), port));
            }
            broker.write_config()?;
            match broker.spawn_and_wait() {
                Ok(()) => return Ok(broker),
                Err(err @ HarnessError::PortInUse { .. }) => last_err = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last_err.unwrap_or(HarnessError::NotRunning))
    }
}

/// A mosquitto process made for one test. Killed when dropped.
pub struct Broker {
    exe: PathBuf,
    config_path: PathBuf,
    log_path: PathBuf,
    password_file: Option<PathBuf>,
    persistence_dir: Option<PathBuf>,
    port: u16,
    extra_ports: Vec<(String, u16)>,
    child: Option<Child>,
    paused: bool,
    settings: BrokerBuilder,
    dir: tempfile::TempDir,
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("port", &self.port)
            .field("extra_ports", &self.extra_ports)
            .field("pid", &self.pid())
            .field("paused", &self.paused)
            .field("dir", &self.dir.path())
            .finish()
    }
}

impl Broker {
    /// A builder with the defaults: anonymous clients allowed, no
    /// persistence, no password file, one plain MQTT listener.
    pub fn builder() -> BrokerBuilder {
        BrokerBuilder::default()
    }

    /// A broker with the defaults (see [`Broker::builder`]).
    pub fn start() -> Result<Broker, HarnessError> {
        Broker::builder().start()
    }

    /// `127.0.0.1`.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The port of the plain MQTT listener. It stays the same across
    /// [`Broker::start_again`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://{}:{}", self.host(), self.port)
    }

    /// The port of the listener added as `name` with
    /// [`BrokerBuilder::listener_extra`].
    pub fn listener_port(&self, name: &str) -> Option<u16> {
        self.extra_ports
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, port)| port)
    }

    /// The process id while the broker runs (or is paused).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process runs (paused counts as running).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(_) | None => false,
        }
    }

    /// The broker's temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The config file mosquitto was started with.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Where the persistence database lives, when persistence is on.
    pub fn persistence_dir(&self) -> Option<&Path> {
        self.persistence_dir.as_deref()
    }

    /// Everything mosquitto logged so far, across restarts (for assertion
    /// messages and debugging).
    pub fn log(&self) -> String {
        match fs::read(&self.log_path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) => format!("(no log at {}: {err})", self.log_path.display()),
        }
    }

    /// Stop the broker cleanly: SIGTERM, then wait for it to exit (it saves
    /// its persistence database on the way). SIGKILL if it has not exited
    /// within 10 s.
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        let Some(mut child) = self.child.take() else {
            return Err(HarnessError::NotRunning);
        };
        signal(&child, libc::SIGTERM)?;
        if self.paused {
            // A stopped process only acts on SIGTERM once it runs again.
            signal(&child, libc::SIGCONT)?;
            self.paused = false;
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if child
                .try_wait()
                .map_err(io_err("waiting for mosquitto"))?
                .is_some()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                child.kill().map_err(io_err("killing mosquitto"))?;
                child.wait().map_err(io_err("waiting for mosquitto"))?;
                return Ok(());
            }
            std::thread::sleep(POLL);
        }
    }

    /// Kill the broker with SIGKILL, as a crash would: nothing is saved
    /// beyond what autosave already wrote.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        let Some(mut child) = self.child.take() else {
            return Err(HarnessError::NotRunning);
        };
        self.paused = false;
        child.kill().map_err(io_err("killing mosquitto"))?;
        child.wait().map_err(io_err("waiting for mosquitto"))?;
        Ok(())
    }

    /// Start the broker again after [`stop`](Self::stop) or
    /// [`kill`](Self::kill), with the same config, the same ports and the
    /// same persistence directory. A port still held by another process is
    /// retried for up to 10 s.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        if self.is_running() {
            return Err(HarnessError::AlreadyRunning);
        }
        let started = Instant::now();
        loop {
            match self.spawn_and_wait() {
                Err(HarnessError::PortInUse { port, log, .. }) if started.elapsed() >= REBIND_TIMEOUT => {
                    return Err(HarnessError::PortInUse {
                        port,
                        waited: started.elapsed(),
                        log,
                    });
                }
                Err(HarnessError::PortInUse { .. }) => std::thread::sleep(Duration::from_millis(50)),
                other => return other,
            }
        }
    }

    /// Freeze the broker (SIGSTOP): connections stay open and the kernel
    /// still accepts new ones, but nothing is answered, as with a hung
    /// broker or a dead network path. For keep-alive tests.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        let child = self.child.as_ref().ok_or(HarnessError::NotRunning)?;
        signal(child, libc::SIGSTOP)?;
        self.paused = true;
        Ok(())
    }

    /// Let a paused broker run again (SIGCONT).
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        let child = self.child.as_ref().ok_or(HarnessError::NotRunning)?;
        signal(child, libc::SIGCONT)?;
        self.paused = false;
        Ok(())
    }

    fn write_config(&self) -> Result<(), HarnessError> {
        let s = &self.settings;
        let mut conf = String::from("# Written by the mqttx test harness for one test.\n");
        conf.push_str("per_listener_settings false\n");
        // Run as root, mosquitto would switch to the `mosquitto` user, which
        // cannot write into this test's directory.
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            conf.push_str("user root\n");
        }
        conf.push_str(&format!("allow_anonymous {}\n", s.allow_anonymous));
        conf.push_str("log_dest stderr\n");
        if s.verbose {
            conf.push_str("log_type all\n");
        } else {
            conf.push_str("log_type error\nlog_type warning\nlog_type notice\nlog_type information\n");
        }
        conf.push_str("connection_messages true\n");
        if let Some(dir) = &self.persistence_dir {
            conf.push_str("persistence true\n");
            // mosquitto 1.x appended the file name verbatim; 2.x adds a `/`
            // itself. The trailing slash suits both.
            conf.push_str(&format!("persistence_location {}/\n", dir.display()));
            conf.push_str("autosave_on_changes true\nautosave_interval 1\n");
        }
        if let Some(file) = &self.password_file {
            conf.push_str(&format!("password_file {}\n", file.display()));
        }
        if let Some(n) = s.max_inflight_messages {
            conf.push_str(&format!("max_inflight_messages {n}\n"));
        }
        if let Some(n) = s.max_queued_messages {
            conf.push_str(&format!("max_queued_messages {n}\n"));
        }
        for lines in &s.extra_config {
            conf.push_str(lines.trim_end());
            conf.push('\n');
        }
        conf.push_str(&format!("\nlistener {} 127.0.0.1\n", self.port));
        for (spec, (_, port)) in s.listeners.iter().zip(&self.extra_ports) {
            conf.push_str(&format!("\nlistener {port} 127.0.0.1\n"));
            conf.push_str(spec.config.trim_end());
            conf.push('\n');
        }
        fs::write(&self.config_path, conf).map_err(io_err("writing mosquitto.conf"))
    }

    /// Spawn mosquitto and wait until it listens on all its ports.
    fn spawn_and_wait(&mut self) -> Result<(), HarnessError> {
        let log_start = fs::metadata(&self.log_path).map_or(0, |m| m.len());
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(io_err("opening the broker log"))?;
        let log_err = log.try_clone().map_err(io_err("opening the broker log"))?;
        let mut child = Command::new(&self.exe)
            .arg("-c")
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(io_err(format!("spawning {}", self.exe.display())))?;
        let pid = child.id();
        let ports: Vec<u16> = std::iter::once(self.port)
            .chain(self.extra_ports.iter().map(|&(_, port)| port))
            .collect();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().map_err(io_err("waiting for mosquitto"))? {
                let log = self.log();
                let this_run = log.as_bytes().get(log_start as usize..).unwrap_or_default();
                if String::from_utf8_lossy(this_run).contains("Address already in use") {
                    return Err(HarnessError::PortInUse {
                        port: self.port,
                        waited: Duration::ZERO,
                        log,
                    });
                }
                return Err(HarnessError::Exited {
                    status,
                    config: self.config_path.clone(),
                    log,
                });
            }
            let mut all = true;
            for &port in &ports {
                // `Other`: another process holds the port, so mosquitto's
                // bind failed; it is about to exit, which the next turn sees.
                match net::listening(Some(pid), port) {
                    Listening::Owner | Listening::Unknown => {}
                    Listening::Nobody | Listening::Other => all = false,
                }
            }
            if all {
                self.child = Some(child);
                self.paused = false;
                return Ok(());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HarnessError::NotListening {
                    port: self.port,
                    timeout: START_TIMEOUT,
                    log: self.log(),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL works on a paused (SIGSTOPped) process too.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Send `sig` to the child. It has not been waited for, so its pid cannot
/// have been reused by another process.
///
/// libc rather than nix or a `kill` subprocess: libc is already in the
/// dependency graph (tokio), the call is one line, and a subprocess per
/// signal would be slower and report errors as text.
fn signal(child: &Child, sig: libc::c_int) -> Result<(), HarnessError> {
    let pid = libc::pid_t::try_from(child.id()).map_err(|_| HarnessError::NotRunning)?;
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(HarnessError::Io {
            context: format!("sending signal {sig} to mosquitto (pid {pid})"),
            source: io::Error::last_os_error(),
        })
    }
}

/// Directories searched besides PATH: Debian installs mosquitto in
/// /usr/sbin, which a non-root PATH may lack.
const SBIN_DIRS: [&str; 3] = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

pub(crate) fn find_executable(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    path_dirs
        .unwrap_or_default()
        .into_iter()
        .chain(SBIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The mosquitto executable: `$MQTTX_MOSQUITTO` if set, else from PATH or
/// the sbin directories.
pub fn find_mosquitto() -> Result<PathBuf, HarnessError> {
    if let Some(path) = std::env::var_os("MQTTX_MOSQUITTO") {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(HarnessError::MosquittoNotFound)
        };
    }
    find_executable("mosquitto").ok_or(HarnessError::MosquittoNotFound)
}

fn write_password_file(
    path: &Path,
    users: &[(String, String)],
    hashing: PasswordHashing,
    mosquitto: &Path,
) -> Result<(), HarnessError> {
    // mosquitto_passwd usually sits beside mosquitto's client tools, not
    // beside the broker (/usr/bin vs /usr/sbin on Debian).
    let tool = match hashing {
        PasswordHashing::Builtin => None,
        PasswordHashing::Auto => mosquitto
            .parent()
            .map(|dir| dir.join("mosquitto_passwd"))
            .filter(|p| is_executable(p))
            .or_else(|| find_executable("mosquitto_passwd")),
    };
    match tool {
        Some(tool) => {
            File::create(path).map_err(io_err("creating the password file"))?;
            for (user, password) in users {
                let out = Command::new(&tool)
                    .arg("-b")
                    .arg(path)
                    .arg(user)
                    .arg(password)
                    .stdin(Stdio::null())
                    .output()
                    .map_err(io_err(format!("running {}", tool.display())))?;
                if !out.status.success() {
                    return Err(HarnessError::Password(format!(
                        "{} -b {} {user} ... failed ({}): {}{}",
                        tool.display(),
                        path.display(),
                        out.status,
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr),
                    )));
                }
            }
            Ok(())
        }
        None => {
            let mut text = String::new();
            for (user, password) in users {
                if user.contains(':') || user.contains('\n') {
                    return Err(HarnessError::Password(format!(
                        "user name {user:?} has ':' or a newline"
                    )));
                }
                text.push_str(&crate::passwd::password_line(user, password));
                text.push('\n');
            }
            fs::write(path, text).map_err(io_err("writing the password file"))
        }
    }
}
