#![no_main]
//! `cargo fuzz run receipts`: see `vipctl::fuzz::receipts`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vipctl::fuzz::receipts(data));
