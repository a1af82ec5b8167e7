//! cargo fuzz target `decode_v5`: see `mqttx::__fuzz::decode_v5`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttx::__fuzz::decode_v5(data));
