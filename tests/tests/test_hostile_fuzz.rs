//! Hostile cases (fuzz): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges").
//!
//! The fuzz targets of `vipctl::fuzz` (the receipts reader, the program-file
//! parser, the money, moment and date parsers) driven by proptest with a
//! fixed number of cases, so that every test run fuzzes a little; `cargo
//! fuzz` runs the same targets for as long as one likes (RELIABILITY.md).
//! Inputs are arbitrary bytes, and byte soup built from the tokens that
//! matter to each parser (quotes, separators, line ends, byte order marks,
//! GBK bytes, signs, digits, dates), so most cases get past the first check.
//! Below them: each input a fuzz run found, as a regression test.

#[allow(unused_imports)]
use crate::workdir::*;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use vipctl::fuzz;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Nothing is written next to the sources; a failure prints its case.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

/// Byte soup: a sequence of the given tokens.
fn soup(tokens: &'static [&'static [u8]], max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(tokens), 0..max).prop_map(|parts| parts.concat())
}

/// What a receipts file is made of, well-formed and not.
const RECEIPT_TOKENS: &[&[u8]] = &[
    b",",
    b",",
    b",",
    b"\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"\"",
    b"\"\"",
    b" ",
    b"\t",
    b"\xEF\xBB\xBF",
    b"\xD6\xD0\xCE\xC4",
    b"\xE4\xB8\xAD\xE6\x96\x87",
    b"\xFF",
    b"\x81\x30",
    b"\x00",
    b"SH01",
    b"R0001",
    b"R0002",
    b"C000001",
    b"",
    b"12.50",
    b"1,234.00",
    b"0",
    b".5",
    b"+3",
    b"-1",
    b"99999999999999.99",
    b"1e5",
    b"2026-03-01 10:00",
    b"2026-03-01T10:00:00+08:00",
    b"26-03-01 10:00",
    b"-2026-03-02 10:00",
    b"2026-02-30 10:00",
    b"sale",
    b"return",
    b"RETURN",
    b"apparel",
    b"store,receipt,member,time,amount\n",
    b"SH01,R0001,C000001,2026-03-01 10:00,12.50\n",
    b"SH01,R0001,,2026-03-01 10:00,0.01\n",
];

/// What a program file is made of: fragments of the handbook programs'
/// TOML, and values at and past every limit.
const PROGRAM_TOKENS: &[&[u8]] = &[
    b"name = \"P\"\n",
    b"timezone = \"Asia/Shanghai\"\n",
    b"timezone = \"Mars/Olympus\"\n",
    b"[earn]\n",
    b"yuan_per_point = \"1\"\n",
    b"yuan_per_point = \"0.01\"\n",
    b"yuan_per_point = \"0\"\n",
    b"percent = \"8.8\"\n",
    b"birthday_multiplier = \"2\"\n",
    b"birthday_multiplier = \"79228162514264337593543950335\"\n",
    b"stack = true\n",
    b"no_points_categories = [\"tobacco\"]\n",
    b"[[earn.category]]\nname = \"apparel\"\nyuan_per_point = \"0.0000000000000000000000000001\"\n",
    b"[[earn.band]]\nmin_paid_ratio = \"0.9\"\nyuan_per_point = \"2\"\n",
    b"[[earn.member_day]]\nweekday = \"Wed\"\nmultiplier = \"3\"\n",
    b"[earn.bonus]\nmin_points = 1\npoints = 4294967295\n",
    b"[redeem]\nyuan_per_point = \"0.01\"\n",
    b"[[redeem.reward]]\ncode = \"CUP\"\npoints = 100\n",
    b"[expiry]\npolicy = \"calendar-year\"\n",
    b"[expiry]\npolicy = \"rolling\"\nmonths = 4294967295\n",
    b"[tiers]\ndowngrade = \"never\"\n",
    b"[[tiers.tier]]\ncode = \"normal\"\nname = \"N\"\n",
    b"[[tiers.tier]]\ncode = \"vip\"\nname = \"V\"\nearn_multiplier = \"1000000\"\n",
    b"any = [ { metric = \"points\", window = \"lifetime\", min = \"300\" } ]\n",
    b"any = [ { metric = \"spend\", window = \"last-99999-days\", min = \"-1\" } ]\n",
    b"= ",
    b"\"",
    b"[",
    b"]",
    b"\n",
    b"-",
    b"1e308",
    b"nan",
    b"\xEF\xBB\xBF",
];

const MONEY_TOKENS: &[&[u8]] = &[
    b"0",
    b"1",
    b"5",
    b"9",
    b".",
    b"+",
    b"-",
    b" ",
    b"\t",
    b"e",
    b",",
    b"_",
    b"\xEF\xBC\x91",
    b"\xC2\xA0",
    b"00000000000000",
];

const TIME_TOKENS: &[&[u8]] = &[
    b"2026",
    b"1900",
    b"2999",
    b"0000",
    b"9999",
    b"26",
    b"+",
    b"-",
    b":",
    b" ",
    b"T",
    b"t",
    b"Z",
    b"z",
    b"03",
    b"02",
    b"29",
    b"30",
    b"31",
    b"12",
    b"13",
    b"00",
    b"23",
    b"24",
    b"59",
    b"60",
    b".",
    b"123456789",
    b"+08:00",
    b"-05:00",
    b"+14:00",
    b"2026-03-08 02:30",
    b"2026-11-01 01:30",
    b"\xE2\x80\x8B",
];

/// A date as typed, right or wrong: year, month and day each from values at
/// and past their limits, with or without a sign.
fn date_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["", "", "", "-", "+", " ", "\u{feff}"][..]),
        prop::sample::select(
            &[
                "2026", "2024", "1900", "2999", "1899", "3000", "26", "02026", "0000", "9999",
                "12026", "",
            ][..],
        ),
        prop::sample::select(&["-", "-", "-", "/", ".", ""][..]),
        prop::sample::select(&["01", "02", "03", "11", "12", "13", "00", "1", "2"][..]),
        prop::sample::select(&["-", "-", "-", "/", ""][..]),
        prop::sample::select(&["01", "08", "28", "29", "30", "31", "32", "00", "1"][..]),
    )
        .prop_map(|(sign, y, s1, m, s2, d)| format!("{sign}{y}{s1}{m}{s2}{d}"))
}

/// A moment as typed: a date, a time of day (one in a daylight saving gap
/// or overlap) and maybe an offset.
fn moment_text() -> impl Strategy<Value = String> {
    (
        date_text(),
        prop::sample::select(&[" ", "T", "t", "  ", ""][..]),
        prop::sample::select(
            &[
                "10:00",
                "02:30",
                "01:30",
                "23:59:59",
                "24:00",
                "10:60",
                "00:00:60",
                "10",
                "",
                "10:00:00.123456789",
            ][..],
        ),
        prop::sample::select(&["", "", "Z", "+08:00", "-05:00", "+14:00", "+24:00", "z"][..]),
    )
        .prop_map(|(d, sep, t, off)| format!("{d}{sep}{t}{off}"))
}

/// The zone byte of the moment target, then the text.
fn moment_input() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        prop_oneof![
            soup(TIME_TOKENS, 12),
            moment_text().prop_map(String::into_bytes)
        ],
    )
        .prop_map(|(zone, text)| [vec![zone], text].concat())
}

/// Fields of a receipts row, well-formed and not.
const FIELD_TOKENS: &[&[u8]] = &[
    b"SH01",
    b" SH01 ",
    b"\xEF\xBB\xBFSH01",
    b"R0001",
    b"R0002",
    b"C000001",
    b"",
    b"",
    b"2026-03-01 10:00",
    b"2026-03-01T10:00:00+08:00",
    b"26-03-01 10:00",
    b"12.50",
    b"0.01",
    b"\"12.50\"",
    b"\"12\"3",
    b"\"1,234.00\"",
    b"1,234.00",
    b"\"12",
    b"12\"",
    b"\"\"",
    b"\"a\nb\"",
    b"a\rb",
    b"\xD6\xD0\xCE\xC4",
    b"\xE4\xB8\xAD\xE6\x96\x87",
    b"\xFF",
    b"sale",
    b"return",
    b"store",
    b"receipt",
];

const LINE_ENDS: &[&[u8]] = &[b"\n", b"\n", b"\r\n", b"\r", b""];

/// A receipts row: fields joined by commas, and a line ending.
fn receipt_row() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(prop::sample::select(FIELD_TOKENS), 1..8),
        prop::sample::select(LINE_ENDS),
    )
        .prop_map(|(fields, end)| [fields.join(&b","[..]), end.to_vec()].concat())
}

/// The mode byte of the receipts target with its header bit set, then rows.
fn receipt_rows() -> impl Strategy<Value = Vec<u8>> {
    (any::<u8>(), prop::collection::vec(receipt_row(), 0..6))
        .prop_map(|(mode, rows)| [vec![mode | 4], rows.concat()].concat())
}

/// The mode byte of the receipts target (encoding, header, zone), then the body.
fn receipts_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (any::<u8>(), soup(RECEIPT_TOKENS, 48))
            .prop_map(|(mode, body)| [vec![mode | 4], body].concat()),
        receipt_rows(),
    ]
}

/// A handbook program with a stretch replaced by tokens.
fn program_input() -> impl Strategy<Value = Vec<u8>> {
    let handbooks: Vec<Vec<u8>> = [
        "mall",
        "supermarket",
        "website",
        "menswear",
        "department-store",
    ]
    .iter()
    .map(|p| std::fs::read(fixture(&format!("programs/{p}.toml"))).expect("handbook program"))
    .collect();
    (
        prop::sample::select(handbooks),
        any::<prop::sample::Index>(),
        0usize..200,
        soup(PROGRAM_TOKENS, 4),
    )
        .prop_map(|(mut source, at, cut, tokens)| {
            let at = at.index(source.len() + 1);
            let end = (at + cut).min(source.len());
            source.splice(at..end, tokens);
            source
        })
}

proptest! {
    #![proptest_config(config(2000))]

    /// Money: arbitrary bytes and number soup; accepted amounts format back.
    #[test]
    fn fuzz_money_parser_never_panics_and_round_trips(data in prop_oneof![bytes(24), soup(MONEY_TOKENS, 12)]) {
        fuzz::money(&data);
    }

    /// Moments (`time`, `--at`): accepted moments are stored and read back.
    #[test]
    fn fuzz_moment_parser_never_panics_and_round_trips(data in prop_oneof![bytes(40), moment_input()]) {
        fuzz::moment(&data);
    }

    /// Dates (`--as-of`, `--from`, `--to`, dates in files).
    #[test]
    fn fuzz_date_parsers_never_panic_and_round_trip(data in prop_oneof![bytes(16), soup(TIME_TOKENS, 8), date_text().prop_map(String::into_bytes)]) {
        fuzz::day(&data);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// The receipts reader: no row lost, no amount made up.
    #[test]
    fn fuzz_receipts_reader_never_panics_loses_or_invents(data in prop_oneof![bytes(300), receipts_input()]) {
        fuzz::receipts(&data);
    }

    /// Program files: an accepted program explains and earns without overflow.
    #[test]
    fn fuzz_program_parser_never_panics_and_explains(data in prop_oneof![1 => bytes(200), 4 => program_input()]) {
        fuzz::program(&data);
    }
}

/// The handbook programs and receipt fixtures pass every target's checks (a
/// target that rejected everything would check nothing).
#[test]
fn fuzz_targets_accept_the_fixtures() {
    for p in [
        "mall",
        "supermarket",
        "website",
        "menswear",
        "department-store",
    ] {
        let source = std::fs::read(fixture(&format!("programs/{p}.toml"))).unwrap();
        assert!(
            vipctl::program::parse(std::str::from_utf8(&source).unwrap()).is_ok(),
            "{p} does not parse"
        );
        fuzz::program(&source);
    }
    let receipts = std::fs::read(fixture("receipts.csv")).unwrap();
    let file = vipctl::ops::import::read_receipts(
        &receipts,
        vipctl::csvio::Encoding::Auto,
        chrono_tz::Asia::Shanghai,
    )
    .unwrap();
    let accepted: usize = file.receipts.iter().flatten().map(Vec::len).sum();
    assert_eq!(
        accepted as u64,
        file.rows_read,
        "every fixture row parses: {:?}",
        file.receipts.iter().find(|r| r.is_err())
    );
    fuzz::receipts(&[[0u8].as_slice(), &receipts].concat());
    fuzz::money(b"12.34");
    fuzz::moment(b"\x002026-03-01 10:00");
    fuzz::day(b"2026-02-28");
}

// ---------------------------------------------------------------- found by fuzzing

/// A moment whose year has a sign or more than four digits was stored in a
/// form that does not read back (the moment target found `-2026-03-08
/// 02:30`); SPEC "Malformed rows": a year that is not four digits or lies
/// outside 1900–2999 is rejected.
#[test]
fn fuzz_found_a_moment_with_a_signed_or_five_digit_year_is_rejected() {
    for text in [
        "-2026-03-08 02:30",
        "+12026-03-02 10:00",
        "-0001-01-01T00:00:00",
        "26-03-01 10:00",
    ] {
        assert!(
            vipctl::rules::time::parse_moment(text, chrono_tz::Asia::Shanghai).is_err(),
            "{text:?} is accepted"
        );
    }
}

/// The moment target found `2999-03-31t00:00:60z`: a leap second was read as
/// one moment and stored as another (`…:59Z`), and a fraction of a second
/// was kept in memory but not in the store. A leap second is now refused and
/// a fraction dropped, so what is read is what is stored.
#[test]
fn fuzz_found_a_leap_second_is_refused_and_a_fraction_of_a_second_dropped() {
    let tz = chrono_tz::Asia::Shanghai;
    for leap in ["2999-03-31t00:00:60z", "2026-12-31 23:59:60"] {
        let e = vipctl::rules::time::parse_moment(leap, tz).unwrap_err();
        assert!(e.contains(leap) && e.contains("second 60"), "{leap}: {e}");
        fuzz::moment(&[[0u8].as_slice(), leap.as_bytes()].concat());
    }
    let m = vipctl::rules::time::parse_moment("2026-03-01T10:00:00.75+08:00", tz).unwrap();
    assert_eq!(vipctl::rules::time::stored(m), "2026-03-01T02:00:00Z");
    assert_eq!(
        vipctl::rules::time::parse_moment(&vipctl::rules::time::stored(m), tz),
        Ok(m)
    );
}

/// The receipts target found `300.0<U+FEFF>0` in an amount (minimised
/// below): the reader removes every U+FEFF from a row, so the amount reads
/// 300.00, the text the operator sees. The target now looks for amounts in
/// the row without U+FEFF (UTF-8 or GB18030); the input is kept here.
#[test]
fn fuzz_found_a_bom_inside_an_amount_is_read_as_the_amount_seen() {
    for (mode, row) in [
        (
            4u8,
            "BJ01,D0001,C000003,2026-11-19 10:00,300.0\u{feff}0\n"
                .as_bytes()
                .to_vec(),
        ),
        (
            6u8,
            [
                &b"BJ01,D0001,C000003,2026-11-19 10:00,300.0"[..],
                b"\x84\x31\xA4\x39",
                b"0\n",
            ]
            .concat(),
        ),
    ] {
        fuzz::receipts(&[[mode].as_slice(), &row].concat());
    }
}

/// The moment target found `2999-12-31T23:59:59-05:00`: accepted (its year
/// as written is 2999), stored as `3000-01-01T04:59:59Z`, and that stored
/// form was then refused by the year check when a report read it back (the
/// last call was lost). `1900-01-01T00:00:00+08:00` is the same at the other
/// end. Stored moments are now read back without the input's year check.
#[test]
fn fuzz_found_a_moment_stored_in_3000_utc_reads_back() {
    use vipctl::rules::time::{parse_moment, read_stored, stored};
    let tz = chrono_tz::Asia::Shanghai;
    for text in [
        "2999-12-31T23:59:59-05:00",
        "1900-01-01T00:00:00+08:00",
        "2999-12-31 23:59:59",
        "1900-01-01 00:00",
    ] {
        let m = parse_moment(text, tz).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            read_stored(&stored(m)),
            Some(m),
            "{text:?} is stored as {:?}",
            stored(m)
        );
    }
}

// ---------------------------------------------------------------- the findings, end to end

/// Receipts, balances and ledger entries: what an import changes.
fn ledger_state(wd: &Workdir) -> String {
    let conn = wd.conn();
    let mut out = String::new();
    for sql in [
        "SELECT store, receipt, COALESCE(member_id, 0), amount_fen, points_earned, at FROM receipts ORDER BY store, receipt",
        "SELECT id, balance FROM members ORDER BY id",
        "SELECT member_id, kind, points FROM ledger ORDER BY id",
    ] {
        out.push_str(&query_text(&conn, sql).join("\n"));
        out.push('\n');
    }
    out
}

const FUZZ_HEADER: &str = "store,receipt,member,time,amount";
const FUZZ_GOOD1: &str = "BJ01,F0001,C000003,2026-11-19 10:00,88.00";
const FUZZ_GOOD2: &str = "BJ01,F0002,C000004,2026-11-19 11:00,120.50";

/// `purchase --file` over `hostile` rows between two good ones: exit 3, the
/// rejects file names line 3 and `needle`, exactly the good rows go in (as
/// a clean file of them does), audit passes, no panic.
fn fuzz_case(case: &str, hostile_row: &str, needle: &str) {
    let control = Workdir::setup();
    let clean = control.write(
        "good.csv",
        &format!("{FUZZ_HEADER}\n{FUZZ_GOOD1}\n{FUZZ_GOOD2}\n"),
    );
    control.ok(&["purchase", "--file", clean.to_str().unwrap()]);

    let wd = Workdir::setup();
    let file = wd.write(
        "hostile.csv",
        &format!("{FUZZ_HEADER}\n{FUZZ_GOOD1}\n{hostile_row}\n{FUZZ_GOOD2}\n"),
    );
    let path = file.to_str().unwrap();
    expect_exit(&wd, &["purchase", "--file", path], 3, &[]);
    let rejects = read_csv(&wd.path("hostile.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{case}: rejects {rejects:#?}");
    assert_eq!(rejects[0]["line"], "3", "{case}: {rejects:#?}");
    assert!(
        rejects[0]["reason"].contains(needle),
        "{case}: the reason does not name {needle:?}: {rejects:#?}"
    );
    assert_eq!(
        ledger_state(&wd),
        ledger_state(&control),
        "{case}: not exactly the good rows went in"
    );
    assert_audit_ok(&wd);
}

/// Hostile: a leap second in a receipts file is rejected with its line and
/// time; the rows around it go in.
#[test]
fn fuzz_hostile_a_leap_second_in_a_receipts_file_is_rejected() {
    fuzz_case(
        "leap second",
        "BJ01,F0003,C000003,2026-06-30 23:59:60,10.00",
        "2026-06-30 23:59:60",
    );
}

/// Hostile: a leap second written as RFC 3339 (as the fuzzer found it).
#[test]
fn fuzz_hostile_a_leap_second_in_rfc3339_is_rejected() {
    fuzz_case(
        "leap second, RFC 3339",
        "BJ01,F0003,C000003,2999-03-31t00:00:60z,10.00",
        "second 60",
    );
}

/// Hostile: `--at` with a leap second is a usage error naming it; nothing changes.
#[test]
fn fuzz_hostile_at_with_a_leap_second_is_a_usage_error() {
    let wd = Workdir::setup();
    let before = snapshot(&wd);
    let out = wd
        .raw(&[
            "--as-of",
            AS_OF,
            "--at",
            "2026-06-30 23:59:60",
            "purchase",
            "--member",
            "C000003",
            "--amount",
            "10.00",
        ])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in ["2026-06-30 23:59:60", "second 60"] {
        assert!(
            err.contains(needle),
            "the error does not name {needle:?}: {err}"
        );
    }
    assert_eq!(before, snapshot(&wd), "the database changed");
    assert_audit_ok(&wd);
}

/// Hostile: the same receipt sent again with its time to the millisecond is
/// the same receipt (a duplicate), not a second credit.
#[test]
fn fuzz_hostile_a_fraction_of_a_second_does_not_make_a_receipt_new() {
    let wd = Workdir::setup();
    let first = wd.write(
        "first.csv",
        &format!("{FUZZ_HEADER}\nBJ01,F0009,C000003,2026-11-19T10:00:00+08:00,88.00\n"),
    );
    wd.ok(&["purchase", "--file", first.to_str().unwrap()]);
    let before = ledger_state(&wd);
    let again = wd.write(
        "again.csv",
        &format!("{FUZZ_HEADER}\nBJ01,F0009,C000003,2026-11-19T10:00:00.999+08:00,88.00\n"),
    );
    let summary = wd.json(&["purchase", "--file", again.to_str().unwrap()]);
    assert_eq!(summary["duplicates"], 1, "{summary}");
    assert_eq!(summary["receipts_imported"], 0, "{summary}");
    assert_eq!(ledger_state(&wd), before, "the receipt was credited twice");
    assert_audit_ok(&wd);
}
