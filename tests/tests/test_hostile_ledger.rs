//! Hostile cases (ledger): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges").

#[allow(unused_imports)]
use crate::workdir::*;
