//! The rules engine: pure functions over plain data. No SQL, no I/O, no clock:
//! every function is handed the date or moment it works on.

pub mod earn;
pub mod expiry;
pub mod identity;
pub mod ledger;
pub mod tiers;
pub mod time;
