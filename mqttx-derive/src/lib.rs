//! Procedural macros for [mqttx](https://docs.rs/mqttx).
//!
//! The `#[mqtt_handler]` attribute is built in its own issue; this crate
//! exists now so the workspace has its final shape.
