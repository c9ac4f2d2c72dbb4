#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sealpost::fuzz_targets::forkout_delivery(data));
