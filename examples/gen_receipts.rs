//! Writes a receipts CSV (SPEC.md "Receipts CSV") to stdout, for fixtures and
//! benchmarks. Deterministic for a given seed; std only.
//!
//! ```text
//! cargo run --release --example gen_receipts -- LINES MEMBERS [SEED] [CARD_PREFIX] [CARD_WIDTH] [START] [DAYS] [STAFF]
//! cargo run --release --example gen_receipts -- 1000000 200000 > receipts.csv          # cards G000000001…
//! cargo run --release --example gen_receipts -- 600 60 7 C 6 2026-10-01 31 8 > fixtures/receipts.csv
//! ```
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lines: u64 = arg(&args, 1, 1_000_000);
    let members: u64 = arg(&args, 2, 200_000);
    let seed: u64 = arg(&args, 3, 42);
    let prefix: String = arg(&args, 4, "G".to_string());
    let width: usize = arg(&args, 5, 9);
    let start: String = arg(&args, 6, "2026-10-01".to_string());
    let days: i64 = arg(&args, 7, 30);
    let staff_count: u64 = arg(&args, 8, 0);
    let parts: Vec<i64> = start.split('-').filter_map(|p| p.parse().ok()).collect();
    if parts.len() != 3 || members == 0 || days <= 0 {
        eprintln!("gen_receipts: START must be YYYY-MM-DD, MEMBERS and DAYS at least 1");
        std::process::exit(2);
    }
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
    emit(
        &mut w,
        "store,receipt,member,time,amount,list_amount,category,staff\n".into(),
    );
    let mut written = 0u64;
    let mut receipt_no = 0u64;
    while written < lines {
        receipt_no += 1;
        let store = STORES[(receipt_no % 3) as usize];
        let member = if rng.below(10) == 0 {
            String::new()
        } else {
            format!("{prefix}{:0width$}", 1 + rng.below(members))
        };
        // Receipts in time order through the period, 09:00–21:59.
        let day = day0 + (written * days as u64 / lines.max(1)) as i64;
        let (y, m, d) = civil_from_days(day);
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
        let n_lines = (1 + rng.below(4)).min(lines - written);
        for _ in 0..n_lines {
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
            emit(
                &mut w,
                format!(
                    "{store},R{receipt_no:08},{member},{time},{}.{:02},{list},{},{staff}\n",
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
