//! vipctl: a retail VIP points program over one local SQLite file.
//!
//! Layers: `cli` (arguments and printing) → `ops` (one function per command,
//! handed today's date) → `rules` (pure functions over plain data) and `store`
//! (the only place that speaks SQL). See ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod archive;
pub mod cli;
pub mod csvio;
pub mod error;
/// Fuzz targets for the parsers (`fuzz/`, and bounded in the test suite).
#[doc(hidden)]
pub mod fuzz;
pub mod money;
pub mod ops;
pub mod program;
pub mod rules;
pub mod sheet;
pub mod store;
