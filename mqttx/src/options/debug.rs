//! How options print: every setting, no secret.

use super::ConnectOptions;

/// Secrets stay out of logs: the password, the proxy's password, the
/// client key and the authentication data are shown as their presence (or
/// length), never their bytes; the handler as its type.
impl<H> std::fmt::Debug for ConnectOptions<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("transport", &self.transport)
            .field("ws_path", &self.ws_path)
            .field("more_servers", &self.more_servers)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &crate::packet::Redacted(self.password.as_ref()))
            .field("clean_session", &self.clean_session)
            .field("keepalive", &self.keepalive)
            .field("protocol_version", &self.protocol_version)
            .field("will", &self.will)
            .field("connect_properties", &self.connect_properties)
            .field("retry_interval", &self.retry_interval)
            .field("max_inflight", &self.max_inflight)
            .field("max_queued", &self.max_queued)
            .field("max_packet_size", &self.max_packet_size)
            .field("io_hints", &self.io_hints)
            .field("read_buffer", &self.read_buffer)
            .field("backoff", &self.backoff)
            .field("connect_timeout", &self.connect_timeout)
            .field("session_store", &self.session_store)
            .field("store_timeout", &self.store_timeout)
            .field("authenticator", &self.authenticator)
            .field("handler", &std::any::type_name::<H>())
            .finish()
    }
}
