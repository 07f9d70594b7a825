//! The rules engine: pure functions over plain data. No SQL, no I/O, no clock:
//! every function is handed the date or moment it works on.

pub mod care;
pub mod earn;
pub mod enroll;
pub mod expiry;
pub mod gifts;
pub mod identity;
pub mod ledger;
pub mod liability;
pub mod lifecycle;
pub mod returns;
pub mod simulate;
pub mod tiers;
pub mod time;
