//! cargo fuzz target `file_store`: see `mqttx::__fuzz::file_store`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttx::__fuzz::file_store(data));
