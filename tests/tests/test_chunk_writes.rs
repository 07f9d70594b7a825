//! The import's per-chunk write of lots, member days and member rows (on
//! PostgreSQL a few set-based statements a chunk, on SQLite a few statements
//! a member): the same file imported in chunks of one row, of two rows and in
//! one chunk leaves the same lots, days and members, and those are exact.
//!
//! Under the mall program (`rules-mall`: 1 point a yuan, Wednesdays double,
//! calendar-year expiry, silver at 3000 yuan in 182 days), every receipt below
//! is on Thursday 2026-11-19, so all its points expire on one date.

use crate::workdir::Workdir;

/// The receipts: C000003 five times (one lot of one date, merged across
/// chunks), C000004 between them (a lot of its own member), C000020 earning,
/// spending the whole lot, then earning twice more (a spent lot takes no more
/// credits; the next lot does), C000021 reaching silver (R24).
const FILE: &str = "store,receipt,member,time,amount,points_used
BJ01,G1,C000003,2026-11-19 10:00,10.00,
BJ01,G2,C000003,2026-11-19 10:05,20.00,
BJ01,H1,C000004,2026-11-19 10:10,15.00,
BJ01,G3,C000003,2026-11-19 10:15,30.00,
BJ01,P1,C000020,2026-11-19 10:20,100.00,
BJ01,G4,C000003,2026-11-19 10:25,40.00,
BJ01,P3,C000020,2026-11-19 10:30,50.00,100
BJ01,P5,C000020,2026-11-19 10:35,30.00,
BJ01,S1,C000021,2026-11-19 10:40,3000.00,
BJ01,P6,C000020,2026-11-19 10:45,20.00,
";

/// A second day's file, imported after the first: C000003's credit joins
/// the lot the first import left.
const LATER: &str = "store,receipt,member,time,amount,points_used
BJ01,G5,C000003,2026-11-19 18:00,5.00,
";

/// Lots (card, expires_on, size, remaining), members (card, balance, sum of
/// entries, last purchase, sales fen/points/count, tier, tier since) and days
/// (card, date, spend, points, purchases), in a stable order.
type State = (
    Vec<(String, Option<String>, i64, i64)>,
    Vec<(
        String,
        i64,
        i64,
        Option<String>,
        i64,
        i64,
        i64,
        String,
        String,
    )>,
    Vec<(String, String, i64, i64, i64)>,
);

fn state(wd: &Workdir) -> State {
    let conn = wd.conn();
    let mut st = conn
        .prepare(
            "SELECT c.card_no, l.expires_on, l.size, l.remaining
             FROM lots l JOIN cards c ON c.member_id = l.member_id
             ORDER BY c.card_no, l.id",
        )
        .unwrap();
    let lots = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let mut st = conn
        .prepare(
            "SELECT c.card_no, m.balance,
                    COALESCE((SELECT SUM(l.points) FROM ledger l WHERE l.member_id = m.id), 0),
                    m.last_purchase, m.sales_fen, m.sales_points, m.sales_count, m.tier, m.tier_since
             FROM members m JOIN cards c ON c.member_id = m.id
             ORDER BY c.card_no",
        )
        .unwrap();
    let members = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let mut st = conn
        .prepare(
            "SELECT c.card_no, d.local_date, d.spend_fen, d.points, d.purchases
             FROM member_days d JOIN cards c ON c.member_id = d.member_id
             ORDER BY c.card_no, d.local_date",
        )
        .unwrap();
    let days = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (lots, members, days)
}

/// Both files imported into a fresh database, in chunks of `rows` rows
/// (`None`: the default, one chunk each).
fn import_in_chunks(rows: Option<u64>) -> (Workdir, State) {
    let wd = Workdir::setup();
    for (name, text) in [("day.csv", FILE), ("later.csv", LATER)] {
        let file = wd.write(name, text);
        let mut args = vec!["purchase", "--file", file.to_str().unwrap()];
        let n = rows.map(|r| r.to_string());
        if let Some(n) = &n {
            args.extend(["--rows-per-commit", n]);
        }
        let out = wd.run(&args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
    wd.audit_passes();
    let s = state(&wd);
    (wd, s)
}

#[test]
fn r17_r21_r23_r24_chunks_merge_one_dates_credits_into_one_lot_and_sum_members_exactly() {
    let (_wd, one) = import_in_chunks(Some(1));
    let (lots, members, days) = &one;
    let of = |card: &str| -> Vec<(i64, i64)> {
        lots.iter()
            .filter(|l| l.0 == card)
            .map(|l| (l.2, l.3))
            .collect()
    };
    // One expiry date for every lot (calendar year, R27).
    let dates: std::collections::BTreeSet<_> = lots.iter().map(|l| l.1.clone()).collect();
    assert_eq!(dates.len(), 1, "{lots:?}");
    assert!(dates.iter().all(Option::is_some), "{lots:?}");
    // R17: five credits of one date in five chunks and two imports: one lot
    // of their sum (10 + 20 + 30 + 40 + 5).
    assert_eq!(of("C000003"), vec![(105, 105)]);
    assert_eq!(of("C000004"), vec![(15, 15)]);
    // The first lot spent to nothing takes no more credits; the next one
    // takes the later credits of its date (50 + 30 + 20).
    assert_eq!(of("C000020"), vec![(100, 0), (100, 100)]);
    // R13: 3000 points and the big-receipt bonus.
    assert_eq!(of("C000021"), vec![(3010, 3010)]);

    // R21: every balance equals the sum of its entries.
    for m in members {
        assert_eq!(m.1, m.2, "balance against entries: {m:?}");
    }
    let member = |card: &str| members.iter().find(|m| m.0 == card).unwrap().clone();
    let c3 = member("C000003");
    assert_eq!(c3.1, 105);
    assert_eq!(c3.3.as_deref(), Some("2026-11-19"));
    assert_eq!((c3.4, c3.5, c3.6), (10_500, 105, 5));
    let c20 = member("C000020");
    assert_eq!(c20.1, 100);
    assert_eq!((c20.4, c20.5, c20.6), (20_000, 200, 4));
    // R24: a purchase reaching silver lifts the member at once.
    let c21 = member("C000021");
    assert_eq!((c21.7.as_str(), c21.8.as_str()), ("silver", "2026-11-19"));
    assert_eq!(member("C000003").7, "normal");

    // R23: one day a member, the sums of its receipts.
    let day = |card: &str| -> Vec<(String, i64, i64, i64)> {
        days.iter()
            .filter(|d| d.0 == card)
            .map(|d| (d.1.clone(), d.2, d.3, d.4))
            .collect()
    };
    assert_eq!(day("C000003"), vec![("2026-11-19".into(), 10_500, 105, 5)]);
    assert_eq!(day("C000020"), vec![("2026-11-19".into(), 20_000, 200, 4)]);
    assert_eq!(
        day("C000021"),
        vec![("2026-11-19".into(), 300_000, 3010, 1)]
    );

    // The same file in chunks of two rows, and in one chunk: the same state.
    let (_wd, two) = import_in_chunks(Some(2));
    assert_eq!(two, one, "chunks of two rows against chunks of one");
    let (_wd, whole) = import_in_chunks(None);
    assert_eq!(whole, one, "one chunk against chunks of one row");
}
