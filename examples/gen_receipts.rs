//! Writes a receipts CSV (SPEC.md "Receipts CSV") to stdout, for fixtures and
//! benchmarks. Deterministic for a given seed; std only.
//!
//! ```text
//! cargo run --release --example gen_receipts -- LINES MEMBERS [SEED] [CARD_PREFIX] [CARD_WIDTH] [START] [DAYS] [STAFF] [STORES] [RETURNS_PERMILLE] [NAMED_BY] [MEMBERS_CSV] [MAX_LINES]
//! cargo run --release --example gen_receipts -- 1000000 200000 > receipts.csv          # cards G000000001…
//! cargo run --release --example gen_receipts -- 600 60 7 C 6 2026-10-01 31 8 > fixtures/receipts.csv
//! # 50 stores, 2% returns, members named by phone (taken from the members file), 1–3 lines:
//! cargo run --release --example gen_receipts -- 1000000 200000 42 G 9 2026-05-01 210 0 50 20 phone members.csv 3
//! ```
//!
//! `NAMED_BY` is `card` (CARD_PREFIX + CARD_WIDTH digits, the default),
//! `number` (member numbers `M00000001`…, members enrolled in file order) or
//! `phone` (the phone of row N of `MEMBERS_CSV`, as `gen_members` writes it).
//! With `RETURNS_PERMILLE` > 0 the file has `type` and `original_receipt`
//! columns and about that many receipts per thousand are one-line returns
//! of an earlier member sale of the same store (at most what was bought).
//!
//! Receipts have 1–4 consecutive lines; about one in ten is a non-member sale
//! (empty member). Amounts are whole fen, categories include no-points ones
//! (tobacco, alcohol) and a 50-yuan-per-point one (appliance), and about a
//! third of lines carry a list price, so every earning rule is exercised.

use std::io::{self, BufWriter, Write};

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const STORES: [&str; 3] = ["BJ01", "SH01", "GZ01"];
const CATEGORIES: [(&str, u64, u64); 8] = [
    // name, weight, max yuan
    ("grocery", 30, 200),
    ("apparel", 20, 1200),
    ("cosmetics", 12, 800),
    ("shoes", 8, 900),
    ("appliance", 5, 5000),
    ("tobacco", 5, 300),
    ("alcohol", 5, 400),
    ("group_buy", 3, 300),
];

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    match args.get(i) {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("gen_receipts: argument {i} ({s:?}) is not valid");
            std::process::exit(2)
        }),
    }
}

/// A member sale line a later return may take back: (store, receipt
/// number, member, category, fen).
type Returnable = (usize, u64, String, &'static str, u64);

fn stores(count: usize) -> Vec<String> {
    if count == 3 {
        return STORES.iter().map(|s| s.to_string()).collect();
    }
    (1..=count).map(|i| format!("S{i:03}")).collect()
}

/// Column `col` (0-based) of every data row of a CSV with no quoted commas.
fn column_of(path: &str, col: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("gen_receipts: cannot read {path}: {e}");
        std::process::exit(2)
    });
    text.lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap_or("").to_string())
        .collect()
}

const USAGE: &str = "usage: gen_receipts LINES MEMBERS [SEED] [CARD_PREFIX] [CARD_WIDTH] [START] [DAYS] [STAFF] [STORES] [RETURNS_PERMILLE] [NAMED_BY] [MEMBERS_CSV] [MAX_LINES]
Writes a receipts CSV (SPEC \"Receipts CSV\") to stdout, deterministic for a seed.
NAMED_BY: card (CARD_PREFIX + CARD_WIDTH digits), number (M00000001…) or phone
(the phones of MEMBERS_CSV, as gen_members writes it).
  gen_receipts 1000000 200000 > receipts.csv
  gen_receipts 600 60 7 C 6 2026-10-01 31 8 > fixtures/receipts.csv
  gen_receipts 1000000 200000 42 G 9 2026-05-01 210 0 50 20 phone members.csv 3";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let lines: u64 = arg(&args, 1, 1_000_000);
    let members: u64 = arg(&args, 2, 200_000);
    let seed: u64 = arg(&args, 3, 42);
    let prefix: String = arg(&args, 4, "G".to_string());
    let width: usize = arg(&args, 5, 9);
    let start: String = arg(&args, 6, "2026-10-01".to_string());
    let days: i64 = arg(&args, 7, 30);
    let staff_count: u64 = arg(&args, 8, 0);
    let store_count: usize = arg(&args, 9, 3);
    let returns_permille: u64 = arg(&args, 10, 0);
    let named_by: String = arg(&args, 11, "card".to_string());
    let members_csv: String = arg(&args, 12, String::new());
    let max_lines: u64 = arg(&args, 13, 4);
    let parts: Vec<i64> = start.split('-').filter_map(|p| p.parse().ok()).collect();
    if parts.len() != 3 || members == 0 || days <= 0 || store_count == 0 || max_lines == 0 {
        eprintln!("gen_receipts: START must be YYYY-MM-DD, MEMBERS, DAYS, STORES and MAX_LINES at least 1");
        std::process::exit(2);
    }
    let phones = match named_by.as_str() {
        "phone" => column_of(&members_csv, 2),
        "card" | "number" => Vec::new(),
        other => {
            eprintln!("gen_receipts: NAMED_BY is card, number or phone, not {other:?}");
            std::process::exit(2)
        }
    };
    if named_by == "phone" && (phones.len() as u64) < members {
        eprintln!("gen_receipts: {members_csv} has fewer than {members} members");
        std::process::exit(2);
    }
    let store_names = stores(store_count);
    let member_ref = |i: u64| -> String {
        match named_by.as_str() {
            "phone" => phones[i as usize].clone(),
            "number" => format!("M{:08}", i + 1),
            _ => format!("{prefix}{:0width$}", i + 1),
        }
    };
    let with_returns = returns_permille > 0;
    let mut returnable: Vec<Returnable> = Vec::new();
    let day0 = days_from_civil(parts[0], parts[1], parts[2]);
    let total_weight: u64 = CATEGORIES.iter().map(|c| c.1).sum();
    let mut rng = SplitMix64(seed);
    let out = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    let emit = |w: &mut BufWriter<_>, s: String| {
        if w.write_all(s.as_bytes()).is_err() {
            std::process::exit(0); // reader went away (| head)
        }
    };
    let extra_header = if with_returns {
        ",type,original_receipt"
    } else {
        ""
    };
    emit(
        &mut w,
        format!("store,receipt,member,time,amount,list_amount,category,staff{extra_header}\n"),
    );
    let mut written = 0u64;
    let mut receipt_no = 0u64;
    while written < lines {
        receipt_no += 1;
        let store_i = (receipt_no % store_count as u64) as usize;
        let store = &store_names[store_i];
        // Receipts in time order through the period, 09:00–21:59.
        let day = day0 + (written * days as u64 / lines.max(1)) as i64;
        let (y, m, d) = civil_from_days(day);
        if with_returns && !returnable.is_empty() && rng.below(1000) < returns_permille {
            // A one-line return of an earlier sale line, after closing time.
            let k = rng.below(returnable.len() as u64) as usize;
            let (si, orig, member, cat, fen) = returnable.swap_remove(k);
            let back = if rng.below(2) == 0 {
                fen
            } else {
                fen.div_ceil(2)
            };
            let staff = if staff_count > 0 {
                format!("S{:03}", 1 + rng.below(staff_count))
            } else {
                String::new()
            };
            let time = format!(
                "{y:04}-{m:02}-{d:02} 22:{:02}:{:02}",
                rng.below(60),
                rng.below(60)
            );
            emit(
                &mut w,
                format!(
                    "{},T{receipt_no:08},{member},{time},{}.{:02},,{cat},{staff},return,R{orig:08}\n",
                    store_names[si],
                    back / 100,
                    back % 100
                ),
            );
            written += 1;
            continue;
        }
        let member = if rng.below(10) == 0 {
            String::new()
        } else {
            member_ref(rng.below(members))
        };
        let time = format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            9 + rng.below(13),
            rng.below(60),
            rng.below(60)
        );
        let staff = if staff_count > 0 {
            format!("S{:03}", 1 + rng.below(staff_count))
        } else {
            String::new()
        };
        let tail = if with_returns { ",sale," } else { "" };
        let n_lines = (1 + rng.below(max_lines)).min(lines - written);
        for line_i in 0..n_lines {
            let mut pick = rng.below(total_weight);
            let mut cat = CATEGORIES[0];
            for c in CATEGORIES {
                if pick < c.1 {
                    cat = c;
                    break;
                }
                pick -= c.1;
            }
            let fen = 100 + rng.below(cat.2 * 100);
            let list = if rng.below(3) == 0 {
                // paid 30%–100% of list
                let pct = 30 + rng.below(71);
                let list_fen = fen * 100 / pct;
                format!("{}.{:02}", list_fen / 100, list_fen % 100)
            } else {
                String::new()
            };
            if with_returns && line_i == 0 && !member.is_empty() {
                if returnable.len() >= 4096 {
                    let k = rng.below(returnable.len() as u64) as usize;
                    returnable.swap_remove(k);
                }
                returnable.push((store_i, receipt_no, member.clone(), cat.0, fen));
            }
            emit(
                &mut w,
                format!(
                    "{store},R{receipt_no:08},{member},{time},{}.{:02},{list},{},{staff}{tail}\n",
                    fen / 100,
                    fen % 100,
                    cat.0
                ),
            );
            written += 1;
        }
    }
    let _ = w.flush();
}
