#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| labvisor_fuzz::share_code::check(data));
