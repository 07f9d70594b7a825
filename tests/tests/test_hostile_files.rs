//! Hostile cases (files): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges").

#[allow(unused_imports)]
use crate::workdir::*;

#[test]
fn a_missing_input_file_is_named_and_nothing_changes() {
    let wd = Workdir::setup();
    let err = refused_unchanged(
        &wd,
        &["purchase", "--file", "no-such-receipts.csv"],
        1,
        &["no-such-receipts.csv"],
    );
    assert!(err.starts_with("error: "), "{err}");
}
