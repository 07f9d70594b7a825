#![no_main]
//! `cargo fuzz run moment`: see `vipctl::fuzz::moment`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vipctl::fuzz::moment(data));
