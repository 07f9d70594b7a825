//! Dates cross the store boundary as dates: a stored date that is not one
//! is an error naming its table and column, never a silent default (the
//! store's one date reader, `store::values::read_day`).

use crate::workdir::Workdir;

/// The first fixture member's number, after `sql` tampered with the
/// database behind the tool's back.
fn tampered(wd: &Workdir, sql: &str) -> String {
    let conn = wd.conn();
    conn.execute_batch(sql).unwrap();
    conn.query_row(
        "SELECT member_no FROM members ORDER BY id LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_stored_enrolment_date_that_is_not_a_date_is_named_with_its_column() {
    let wd = Workdir::setup();
    let no = tampered(
        &wd,
        "UPDATE members SET enrolled_at = '2026/01/05' WHERE id = (SELECT MIN(id) FROM members)",
    );
    let out = wd.run(&["member", "show", &no]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("members.enrolled_at") && out.stderr.contains("2026/01/05"),
        "{}",
        out.stderr
    );
}

#[test]
fn r25_a_stored_tier_date_that_is_not_a_date_stops_the_recompute_and_is_named() {
    let wd = Workdir::setup();
    tampered(
        &wd,
        "UPDATE members SET tier_since = 'soon' WHERE id = (SELECT MIN(id) FROM members)",
    );
    let before = wd.counts();
    let out = wd.run(&["tier-recompute"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("members.tier_since") && out.stderr.contains("\"soon\""),
        "{}",
        out.stderr
    );
    assert_eq!(
        wd.counts(),
        before,
        "a failed recompute changed the database"
    );
}

#[test]
fn untampered_dates_read_back_as_written() {
    let wd = Workdir::setup();
    let no = tampered(&wd, "SELECT 1");
    let m = wd.member(&no);
    let stored: (String, String) = wd
        .conn()
        .query_row(
            "SELECT enrolled_at, tier_since FROM members WHERE member_no = ?1",
            [&no],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(m["enrolled_at"], stored.0.as_str());
    assert_eq!(m["tier_since"], stored.1.as_str());
    assert!(m["last_purchase"].is_null(), "{m}");
}
