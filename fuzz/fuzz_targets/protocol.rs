//! cargo fuzz target `protocol`: see `mqttx::__fuzz::protocol`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttx::__fuzz::protocol(data));
