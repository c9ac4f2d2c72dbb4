#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost_testkit::fuzz::device_link(data));
