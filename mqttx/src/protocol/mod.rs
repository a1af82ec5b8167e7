//! The sans-IO MQTT session state machine.
//!
//! PLACEHOLDER: being written on the `protocol` branch.
