//! What can go wrong in a session store.

use std::sync::Arc;

/// A session store failed: it could not read, write or make durable what
/// it was given. Carries the underlying I/O error when there is one.
///
/// ```
/// let err = mqttx::store::StoreError::new("disk full");
/// assert_eq!(err.to_string(), "disk full");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}{}", io.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
pub struct StoreError {
    message: String,
    io: Option<Arc<std::io::Error>>,
}

impl StoreError {
    /// An error described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            io: None,
        }
    }

    /// An I/O error, with what the store was doing.
    pub fn io(context: impl Into<String>, err: std::io::Error) -> Self {
        StoreError {
            message: context.into(),
            io: Some(Arc::new(err)),
        }
    }

    /// The underlying I/O error, if any.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.io.as_deref()
    }
}
