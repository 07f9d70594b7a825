//! `redeem void ID --approved-by NAME`: a mistaken redemption reversed on
//! its own day, its points back in the very lots they came from (R16, R17,
//! R21).

use crate::workdir::{
    assert_audit_ok, expect_exit, refused_unchanged, snapshot, stdout_of, Workdir,
};
use proptest::prelude::*;
use serde_json::Value;

/// Lots expire 12 months after they are earned, so lots of different days
/// have different expiry dates.
const PROGRAM: &str = r#"name = "Void test"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"

[expiry]
policy = "per-lot"
months = 12
"#;

fn on(wd: &Workdir, day: &str, args: &[&str]) -> String {
    let at = format!("{day} 10:00");
    let out = wd
        .raw(&["--as-of", day, "--at", &at])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} as of {day}: {}",
        crate::workdir::stderr_of(&out)
    );
    stdout_of(&out)
}

fn on_json(wd: &Workdir, day: &str, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&on(wd, day, &all)).unwrap()
}

/// A member with 100 points earned on 2026-01-05 and 80 on 2026-03-05.
fn setup() -> (Workdir, String) {
    let wd = Workdir::new();
    let p = wd.write("void.toml", PROGRAM);
    wd.ok(&["init", "--program", p.to_str().unwrap()]);
    let no = wd.enroll("张伟", "13800138000", "11010519491231002X");
    on(
        &wd,
        "2026-01-05",
        &[
            "adjust", "--member", &no, "--points", "100", "--reason", "opening",
        ],
    );
    on(
        &wd,
        "2026-03-05",
        &[
            "adjust", "--member", &no, "--points", "80", "--reason", "bonus",
        ],
    );
    (wd, no)
}

fn lots(wd: &Workdir) -> Vec<(Option<String>, i64)> {
    let conn = wd.conn();
    let mut st = conn
        .prepare("SELECT expires_on, SUM(remaining) FROM lots WHERE remaining > 0 GROUP BY expires_on ORDER BY expires_on")
        .unwrap();

    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn redeem(wd: &Workdir, no: &str, points: i64) -> i64 {
    let r = wd.json(&["redeem", "--member", no, "--points", &points.to_string()]);
    r["entry_id"].as_i64().unwrap()
}

#[test]
fn r17_void_restores_the_very_lots_with_their_expiry_and_adds_entries() {
    let (wd, no) = setup();
    let before = lots(&wd);
    assert_eq!(before.len(), 2);
    let entries_before = wd.count("ledger");
    let id = redeem(&wd, &no, 150);
    assert_eq!(wd.points(&no), 30);
    let done = wd.json(&[
        "--operator",
        "店长",
        "redeem",
        "void",
        &id.to_string(),
        "--approved-by",
        "李娜",
    ]);
    assert_eq!(done["changed"], true, "{done}");
    assert_eq!(done["points"], 150);
    assert_eq!(done["balance"], 180);
    assert_eq!(wd.points(&no), 180);
    // The very lots, each with its own expiry date.
    assert_eq!(lots(&wd), before);
    // New entries (one per expiry date given back); the redemption stays.
    assert_eq!(wd.count("ledger"), entries_before + 1 + 2);
    let kinds = crate::workdir::query_text(
        &wd.conn(),
        "SELECT kind, points, source, ref, lot_expires_on FROM ledger WHERE source = 'void' ORDER BY id",
    );
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(
        kinds[0].contains("2027-01-05") && kinds[1].contains("2027-03-05"),
        "{kinds:?}"
    );
    let j = crate::workdir::query_text(
        &wd.conn(),
        "SELECT operator, detail FROM journal WHERE command = 'redeem void'",
    );
    assert_eq!(j.len(), 1);
    assert!(j[0].contains("店长") && j[0].contains("李娜"), "{j:?}");
    assert_audit_ok(&wd);
    // R17 again: the next redemption takes the soonest-expiring lot first.
    redeem(&wd, &no, 100);
    assert_eq!(lots(&wd), vec![(Some("2027-03-05".to_string()), 80)]);
    assert_audit_ok(&wd);
}

#[test]
fn a_second_void_changes_nothing() {
    let (wd, no) = setup();
    let id = redeem(&wd, &no, 50).to_string();
    wd.ok(&["redeem", "void", &id, "--approved-by", "李娜"]);
    let before = snapshot(&wd);
    let again = wd.json(&["redeem", "void", &id, "--approved-by", "李娜"]);
    assert_eq!(again["changed"], false);
    assert_eq!(before, snapshot(&wd));
    assert_audit_ok(&wd);
}

#[test]
fn void_hostile_cases_change_nothing() {
    let (wd, no) = setup();
    // Made on another day: refused, naming the redemption and its day.
    let r = on_json(
        &wd,
        "2026-11-19",
        &["redeem", "--member", &no, "--points", "20"],
    );
    let old = r["entry_id"].as_i64().unwrap().to_string();
    refused_unchanged(
        &wd,
        &["redeem", "void", &old, "--approved-by", "李娜"],
        4,
        &[&old, "2026-11-19", "own day"],
    );
    // Not a redemption (an adjustment), unknown, malformed, no approver.
    refused_unchanged(
        &wd,
        &["redeem", "void", "1", "--approved-by", "李娜"],
        4,
        &["entry 1", "not a redemption"],
    );
    refused_unchanged(
        &wd,
        &["redeem", "void", "999", "--approved-by", "李娜"],
        1,
        &["999"],
    );
    refused_unchanged(
        &wd,
        &["redeem", "void", "x1", "--approved-by", "李娜"],
        2,
        &["x1"],
    );
    refused_unchanged(&wd, &["redeem", "void", &old], 2, &["--approved-by"]);
    let id = redeem(&wd, &no, 10).to_string();
    refused_unchanged(
        &wd,
        &["redeem", "void", &id, "--approved-by", " "],
        2,
        &["--approved-by"],
    );
    // Flags of a redemption with the subcommand: a usage error.
    expect_exit(
        &wd,
        &["redeem", "--member", &no, "void", &id, "--approved-by", "x"],
        2,
        &[],
    );
}

#[test]
fn r20_a_void_after_a_debt_pays_the_debt_first() {
    let (wd, no) = setup();
    let id = redeem(&wd, &no, 180).to_string();
    wd.ok(&[
        "adjust",
        "--member",
        &no,
        "--points",
        "-30",
        "--reason",
        "owed",
        "--allow-debt",
    ]);
    assert_eq!(wd.points(&no), -30);
    let done = wd.json(&["redeem", "void", &id, "--approved-by", "李娜"]);
    assert_eq!(done["balance"], 150);
    assert_eq!(lots(&wd).iter().map(|l| l.1).sum::<i64>(), 150);
    assert_audit_ok(&wd);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Property (R17, R21): redeeming then voiding any subset of the
    /// redemptions on the same day leaves the balance and the points of each
    /// expiry date as they would be had only the others been made.
    #[test]
    fn void_undoes_exactly_its_redemption(amounts in proptest::collection::vec(1i64..60, 1..4), mask in 0u8..16) {
        let (wd, no) = setup();
        let mut kept_total = 0;
        let mut ids = Vec::new();
        for a in &amounts {
            ids.push(redeem(&wd, &no, *a));
        }
        for (i, (id, a)) in ids.iter().zip(&amounts).enumerate() {
            if mask & (1 << i) != 0 {
                wd.ok(&["redeem", "void", &id.to_string(), "--approved-by", "李娜"]);
            } else {
                kept_total += a;
            }
        }
        prop_assert_eq!(wd.points(&no), 180 - kept_total);
        prop_assert_eq!(lots(&wd).iter().map(|l| l.1).sum::<i64>(), 180 - kept_total);
        assert_audit_ok(&wd);
    }
}
