/// The byte stream a connection runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// Plain TCP, default port 1883.
    #[default]
    Tcp,
    /// TLS over TCP, default port 8883.
    Tls,
    /// WebSocket, default port 8083.
    Ws,
    /// WebSocket over TLS, default port 8084.
    Wss,
}

impl Transport {
    /// The conventional port for this transport.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tcp => 1883,
            Transport::Tls => 8883,
            Transport::Ws => 8083,
            Transport::Wss => 8084,
        }
    }

    /// Whether this transport runs over TLS.
    pub fn is_secure(self) -> bool {
        matches!(self, Transport::Tls | Transport::Wss)
    }
}
