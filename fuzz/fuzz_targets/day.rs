#![no_main]
//! `cargo fuzz run day`: see `vipctl::fuzz::day`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vipctl::fuzz::day(data));
