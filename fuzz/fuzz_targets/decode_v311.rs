//! cargo fuzz target `decode_v311`: see `mqttx::__fuzz::decode_v311`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttx::__fuzz::decode_v311(data));
