//! The kinds of method an `#[mqtt_handler]` block may hold, by the
//! attribute that marks each.

/// The attributes this macro reads, by name.
pub const ATTRIBUTES: [&str; 7] = [
    "subscribe",
    "message",
    "connected",
    "disconnected",
    "publish_error",
    "auth",
    "extract_error",
];

/// What a method is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Route,
    Message,
    Connected,
    Disconnected,
    PublishError,
    Auth,
    ExtractError,
}

impl Kind {
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "subscribe" => Kind::Route,
            "message" => Kind::Message,
            "connected" => Kind::Connected,
            "disconnected" => Kind::Disconnected,
            "publish_error" => Kind::PublishError,
            "auth" => Kind::Auth,
            "extract_error" => Kind::ExtractError,
            _ => return None,
        })
    }

    pub fn attribute(self) -> &'static str {
        match self {
            Kind::Route => "#[subscribe]",
            Kind::Message => "#[message]",
            Kind::Connected => "#[connected]",
            Kind::Disconnected => "#[disconnected]",
            Kind::PublishError => "#[publish_error]",
            Kind::Auth => "#[auth]",
            Kind::ExtractError => "#[extract_error]",
        }
    }
}
