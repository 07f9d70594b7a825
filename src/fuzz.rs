//! Fuzz targets: the parsers that read what an operator types or a till
//! writes, driven by arbitrary bytes. Each target panics when a parser
//! panics or breaks one of the properties checked here; a target that
//! returns quietly found nothing. The same functions run under `cargo fuzz`
//! (`fuzz/`) and, bounded, under proptest in the test suite
//! (RELIABILITY.md).

use crate::csvio::Encoding;
use crate::money::{format_fen, parse_yuan};
use crate::ops::import::read_receipts;
use crate::program;
use crate::rules::{earn, time};
use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

/// Money within 10^13 yuan (SPEC "Bounds"), in fen.
const MONEY_BOUND_FEN: i64 = 1_000_000_000_000_000;

/// Time zones with unusual offsets and daylight saving gaps and overlaps.
const ZONES: [Tz; 6] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::UTC,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Pacific::Pago_Pago,
];

/// `money::parse_yuan` and `money::format_fen`: an accepted amount is a
/// non-negative number of fen within the money bound that formats back to
/// itself; any 8 bytes read as fen format and parse back when in range.
pub fn money(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(fen) = parse_yuan(text) {
            assert!(
                (0..MONEY_BOUND_FEN).contains(&fen),
                "{text:?} parsed to {fen} fen"
            );
            let t = text.trim();
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'+'),
                "{text:?} parsed to {fen} fen though it is not a plain number"
            );
            assert_eq!(
                parse_yuan(&format_fen(fen)),
                Ok(fen),
                "{text:?}: {fen} fen does not format back"
            );
        }
    }
    if let Some(head) = data.get(..8) {
        let fen = i64::from_le_bytes(head.try_into().unwrap_or_default());
        let text = format_fen(fen);
        let back = parse_yuan(&text);
        if (0..MONEY_BOUND_FEN).contains(&fen) {
            assert_eq!(back, Ok(fen), "{fen} fen formats as {text:?}");
        } else {
            assert!(
                back.is_err(),
                "{fen} fen ({text:?}) is out of bounds but parses"
            );
        }
    }
}

/// `rules::time::parse_moment` (receipts' `time`, `--at`): an accepted moment
/// names a four-digit year from 1900 to 2999 (SPEC "Dates"), is stored as
/// RFC 3339 in UTC, which parses back to the same moment in any zone, and its
/// local date can be taken. The first byte picks the zone.
pub fn moment(data: &[u8]) {
    let Some((&zone, rest)) = data.split_first() else {
        return;
    };
    let tz = ZONES[usize::from(zone) % ZONES.len()];
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(m) = time::parse_moment(text, tz) else {
        return;
    };
    let _ = time::local_date(m, tz);
    // The year as written is in YEARS; an offset moves the moment by a day at most.
    assert!(
        (time::YEARS.start() - 1..=time::YEARS.end() + 1).contains(&m.year()),
        "{text:?} in {tz} is accepted as {m}"
    );
    // Its stored form reads back to the same moment, whatever the zone
    // (also a moment written in 2999 that is 3000 in UTC).
    let stored = time::stored(m);
    assert_eq!(
        time::read_stored(&stored),
        Some(m),
        "{text:?} in {tz}: stored as {stored:?}, which does not read back"
    );
    // In the stored form's own year range it is also valid input, the same
    // moment in every zone.
    if time::YEARS.contains(&m.year()) {
        for other in ZONES {
            assert_eq!(
                time::parse_moment(&stored, other),
                Ok(m),
                "{text:?} in {tz}: stored as {stored:?}, which does not read back in {other}"
            );
        }
    }
}

/// The date parsers (`--as-of`, `--from`, `--to`, `--year`; dates in files):
/// an accepted date names a four-digit year from 1900 to 2999, formats as
/// `YYYY-MM-DD` and parses back to itself.
pub fn day(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    type Parser = fn(&str) -> Result<NaiveDate, String>;
    let parsers: [(&str, Parser); 3] = [
        ("date", time::parse_day),
        ("flag date", crate::cli::parse_day),
        ("file date", |t| crate::ops::members::parse_date(t, "date")),
    ];
    for (what, parse) in parsers {
        if let Ok(d) = parse(text) {
            assert!(
                time::YEARS.contains(&d.year()),
                "{what} {text:?} is accepted as {d}"
            );
            let again = d.format("%Y-%m-%d").to_string();
            assert_eq!(
                parse(&again),
                Ok(d),
                "{what} {text:?} read as {d}, written {again:?}, which does not read back"
            );
        }
    }
    if let Ok(year) = time::parse_year(text) {
        assert!(
            time::YEARS.contains(&year) && year.to_string() == text.trim(),
            "year {text:?} is accepted as {year}"
        );
    }
}

/// `program::parse` and `program::explain` (`program check|set`, `init
/// --program`): an accepted program explains, and earns on the largest
/// receipt at every tier without overflowing.
pub fn program(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = program::parse(source) else {
        return;
    };
    let text = program::explain(&p);
    assert!(!text.is_empty(), "program explained as nothing: {source:?}");
    let day = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap_or_default();
    let mut categories: Vec<Option<&str>> = vec![None];
    categories.extend(p.earn.categories.iter().map(|c| Some(c.name.as_str())));
    categories.extend(p.earn.no_points_categories.iter().map(|c| Some(c.as_str())));
    let lines: Vec<earn::Line> = categories
        .iter()
        .map(|&category| earn::Line {
            amount_fen: MONEY_BOUND_FEN - 1,
            list_amount_fen: Some(MONEY_BOUND_FEN - 1),
            category,
        })
        .collect();
    for tier in &p.tiers.ladder {
        let e = earn::earn_sale(&p.earn, &lines, day, Some(day), tier.earn_multiplier);
        assert!(
            e.total >= 0 && e.points >= 0,
            "tier {} earns {e:?}: {source:?}",
            tier.code
        );
    }
}

/// Header rows the receipts target can put in front of its input, so that
/// most inputs reach the row parser.
const HEADERS: [&[u8]; 4] = [
    b"store,receipt,member,time,amount\n",
    b"store,receipt,member,time,amount,list_amount,category,points_used,staff,type,original_receipt\n",
    b"\xEF\xBB\xBFAmount,Time,Member,Receipt,Store,Category\n",
    b"type,original_receipt,store,receipt,member,time,amount,points_used\n",
];

/// The receipts reader (`purchase --file`): decoding, header, grouping and
/// row parsing, as `ops::import::read_receipts` runs them. The first byte
/// picks the encoding and whether a header is put in front. Every row read
/// is accepted, rejected or unreadable, none lost; an accepted row has as
/// many fields as the header, codes without spaces or U+FEFF around them, a
/// year from 1900 to 2999, and an amount that is the amount field's text as
/// it stands in the file (U+FEFF aside), within the money bound.
pub fn receipts(data: &[u8]) {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let encoding = match mode & 3 {
        1 => Encoding::Utf8,
        2 => Encoding::Gb18030,
        _ => Encoding::Auto,
    };
    let mut input = Vec::with_capacity(data.len() + 128);
    if mode & 4 != 0 {
        input.extend_from_slice(HEADERS[usize::from(mode >> 3) % HEADERS.len()]);
    }
    input.extend_from_slice(body);
    let tz = ZONES[usize::from(mode >> 5) % ZONES.len()];
    let Ok(file) = read_receipts(&input, encoding, tz) else {
        return;
    };
    // Where each line starts in the bytes: an amount is ASCII, as it stands
    // in the file whatever its encoding.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', &input).map(|i| i + 1))
        .collect();

    let mut accounted = file.unreadable;
    for receipt in &file.receipts {
        match receipt {
            Err(rejected) => {
                assert!(!rejected.lines.is_empty(), "a rejection without rows");
                assert!(
                    rejected.lines.contains(&rejected.line),
                    "rejection names line {} outside its receipt {:?}",
                    rejected.line,
                    rejected.lines
                );
                accounted += rejected.lines.len() as u64;
            }
            Ok(rows) => {
                assert!(!rows.is_empty(), "a receipt without rows");
                accounted += rows.len() as u64;
                for row in rows {
                    let at = usize::try_from(row.line)
                        .ok()
                        .and_then(|l| line_starts.get(l.checked_sub(1)?))
                        .copied()
                        .unwrap_or_else(|| panic!("line {} is not in the file", row.line));
                    // The reader removes every U+FEFF from a row (files joined
                    // with `cat`), so the amount is looked for without them.
                    let rest = strip_bom(&input[at..]);
                    assert!(
                        memchr::memmem::find(&rest, row.amount_text.as_bytes()).is_some(),
                        "line {}: amount {:?} is not in the row's text {:?}",
                        row.line,
                        row.amount_text,
                        String::from_utf8_lossy(rest.split(|&b| b == b'\n').next().unwrap_or(b""))
                    );
                    assert_eq!(
                        parse_yuan(&row.amount_text),
                        Ok(row.amount_fen),
                        "line {}: amount {:?}",
                        row.line,
                        row.amount_text
                    );
                    for fen in [Some(row.amount_fen), row.list_amount_fen]
                        .into_iter()
                        .flatten()
                    {
                        assert!(
                            (0..MONEY_BOUND_FEN).contains(&fen),
                            "line {}: {fen} fen",
                            row.line
                        );
                    }
                    assert!(
                        row.kind == "sale" || row.kind == "return",
                        "line {}: type {:?}",
                        row.line,
                        row.kind
                    );
                    assert!(
                        !row.store.is_empty() && !row.receipt.is_empty(),
                        "line {}: a receipt without store or number",
                        row.line
                    );
                    // SPEC "Malformed rows": as many fields as the header.
                    assert_eq!(
                        row.fields, file.columns,
                        "line {}: a row of {} fields under a header of {} is accepted",
                        row.line, row.fields, file.columns
                    );
                    // SPEC "The same receipt": codes without surrounding
                    // spaces or any U+FEFF.
                    let category = row.category.as_deref().unwrap_or("");
                    for (name, code) in [
                        ("store", row.store.as_str()),
                        ("receipt", &row.receipt),
                        ("member", &row.member),
                        ("staff", &row.staff),
                        ("category", category),
                    ] {
                        assert!(
                            crate::csvio::trim_code(code) == code && !code.contains('\u{feff}'),
                            "line {}: {name} {code:?} keeps spaces or a U+FEFF",
                            row.line
                        );
                    }
                    assert!(
                        (time::YEARS.start() - 1..=time::YEARS.end() + 1)
                            .contains(&row.moment.year()),
                        "line {}: a receipt at {}",
                        row.line,
                        row.moment
                    );
                    let _ = time::local_date(row.moment, tz);
                }
            }
        }
    }
    assert_eq!(
        accounted, file.rows_read,
        "rows read and rows accepted, rejected or unreadable differ"
    );
}

/// `bytes` without any U+FEFF, in UTF-8 or in GB18030.
fn strip_bom(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for bom in [&b"\xEF\xBB\xBF"[..], b"\x84\x31\xA4\x39"] {
        let mut kept = Vec::with_capacity(out.len());
        let mut rest = out.as_slice();
        while let Some(p) = memchr::memmem::find(rest, bom) {
            kept.extend_from_slice(&rest[..p]);
            rest = &rest[p + bom.len()..];
        }
        kept.extend_from_slice(rest);
        out = kept;
    }
    out
}
