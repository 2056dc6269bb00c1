#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labvisor_fuzz::scenario::check(data));
