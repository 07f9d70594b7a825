#![no_main]
//! `cargo fuzz run money`: see `vipctl::fuzz::money`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vipctl::fuzz::money(data));
