#![no_main]
//! `cargo fuzz run program`: see `vipctl::fuzz::program`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vipctl::fuzz::program(data));
