//! Procedural macros for [mqttx](https://docs.rs/mqttx).
use proc_macro::TokenStream;

/// See `mqttx::mqtt_handler`.
#[proc_macro_attribute]
pub fn mqtt_handler(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
