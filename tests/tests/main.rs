//! The one integration-test binary (xsv style): a module per command, each test
//! in its own work directory with its own database, running the real `vipctl`.
//!
//! It lives in `tests/tests/main.rs` rather than `tests/tests.rs` so that Cargo's
//! test auto-discovery builds exactly one binary (`cargo test --test tests`)
//! without `autotests = false` in Cargo.toml: every `tests/*.rs` file would
//! otherwise become a test binary of its own.

mod props_world;
mod workdir;
mod workdir_db;

mod test_chunk_writes;
mod test_completions;
mod test_concurrency;
mod test_crash;
mod test_db_copy;
mod test_encrypted;
mod test_enroll;
mod test_expiry;
mod test_export;
mod test_formats;
mod test_handbooks;
mod test_help;
mod test_hostile_files;
mod test_hostile_fuzz;
mod test_hostile_input;
mod test_hostile_ledger;
mod test_hostile_privacy;
mod test_imports;
mod test_init;
mod test_journal;
mod test_ledger;
mod test_ledger_props;
mod test_liability;
mod test_lifecycle;
mod test_man;
mod test_member;
mod test_migrations;
mod test_pending;
mod test_postgres;
mod test_program;
mod test_purchase;
mod test_race;
mod test_redeem;
mod test_reports;
mod test_returns_props;
mod test_returns_window;
mod test_simulate;
mod test_snapshots;
mod test_staff;
mod test_stored_dates;
mod test_tidy;
mod test_tiers;
mod test_undo;
mod test_void;
mod test_xlsx;
