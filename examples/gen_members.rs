//! Writes a members CSV for load tests to stdout, every row valid and unique:
//!
//! ```text
//! cargo run --release --example gen_members -- 200000 > members.csv
//! cargo run --release --example gen_members -- COUNT [SEED] [BIRTHDAYS]
//! ```
//!
//! With `BIRTHDAYS` = `all` every row states its birthday (by default one
//! in ten does; the rest leave it to the ID number, R4).
//!
//! The columns are those of `fixtures/members.csv`. Phones and ID numbers are
//! derived from the row index through keyed permutations, so they are unique
//! for any seed; the seed varies the permutations, names and dates.
//! Phones start with 13, 15 or 18 and the ID area codes are not those used in
//! `fixtures/`, so a generated file never collides with the fixture staff or
//! members. Standard library only.

use std::env;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

const HEADER: &str = "card,name,phone,id_number,birthday,gender,store,staff,enrolled_at";
const COUNT_DEFAULT: u64 = 200_000;
const SEED_DEFAULT: u64 = 42;

/// Second digits of the generated phones; fixtures use 14x/16x/17x/19x.
const PHONE_PREFIXES: [u8; 3] = [3, 5, 8];
const PHONE_SUBSCRIBERS_PER_PREFIX: u64 = 1_000_000_000;

const STORES: [&str; 3] = ["BJ01", "SH01", "GZ01"];
/// Area codes per store (same order as `STORES`), disjoint from the fixtures'.
const AREAS: [[&str; 4]; 3] = [
    ["110106", "110108", "110114", "110115"],
    ["310110", "310112", "310113", "310120"],
    ["440105", "440111", "440112", "440113"],
];
const AREAS_PER_STORE: u64 = 4;
const ID_SEQUENCES: u64 = 1000;
/// Birth dates run from 1950-01-01 for this many days (to 2007-12-31).
const BIRTH_YEAR_FIRST: i64 = 1950;
const BIRTH_YEAR_LAST: i64 = 2007;

const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "田", "董", "袁", "潘", "于", "蒋", "蔡", "余",
];
const GIVEN_MALE: [&str; 20] = [
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "浩然", "子轩", "建国", "志强",
    "俊杰", "宇航", "文博", "国华", "晨阳", "鹏飞",
];
const GIVEN_FEMALE: [&str; 20] = [
    "娜", "敏", "静", "丽", "艳", "芳", "娟", "霞", "婷", "雪", "秀英", "桂英", "欣怡", "雨桐",
    "梓涵", "晓燕", "玉兰", "佳琪", "思雨", "慧敏",
];

/// GB 11643 weights of the first 17 digits, and the check character by sum mod 11.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// splitmix64: small, fast and deterministic.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0); the modulo bias is irrelevant here.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// One of `items` (not empty).
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        items[usize::try_from(self.below(len)).unwrap_or(0)]
    }
}

/// A keyed permutation of `0..domain`: a 4-round Feistel network over the
/// smallest even number of bits that covers the domain, with cycle walking
/// back into the domain. A bijection, so distinct inputs give distinct outputs.
struct Permutation {
    domain: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    fn new(domain: u64, rng: &mut SplitMix64) -> Self {
        let bits = 64 - domain.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
        ];
        Permutation {
            domain,
            half_bits,
            keys,
        }
    }

    fn round(value: u64, key: u64) -> u64 {
        SplitMix64(value ^ key).next_u64()
    }

    fn once(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for key in self.keys {
            (left, right) = (right, left ^ (Self::round(right, key) & mask));
        }
        (left << self.half_bits) | right
    }

    /// `x` must be below `domain`.
    fn apply(&self, x: u64) -> u64 {
        let mut y = self.once(x);
        while y >= self.domain {
            y = self.once(y);
        }
        y
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Civil date to days since 1970-01-01 (inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn id_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    char::from(ID_CHECK[(sum % 11) as usize])
}

struct Generator {
    rng: SplitMix64,
    /// Every row states its birthday.
    all_birthdays: bool,
    phone_permutation: Permutation,
    id_permutation: Permutation,
    birth_first_day: i64,
    birth_days: u64,
    enrolled_first_day: i64,
    enrolled_days: u64,
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut rng = SplitMix64(seed);
        let birth_first_day = days_from_civil(BIRTH_YEAR_FIRST, 1, 1);
        let birth_end_day = days_from_civil(BIRTH_YEAR_LAST + 1, 1, 1);
        let birth_days = u64::try_from(birth_end_day - birth_first_day).unwrap_or(1);
        let enrolled_first_day = days_from_civil(2025, 1, 1);
        let enrolled_days =
            u64::try_from(days_from_civil(2026, 1, 1) - enrolled_first_day).unwrap_or(1);
        let id_space =
            AREAS_PER_STORE * u64::try_from(STORES.len()).unwrap_or(1) * birth_days * ID_SEQUENCES;
        let phone_space = PHONE_SUBSCRIBERS_PER_PREFIX * PHONE_PREFIXES.len() as u64;
        let phone_permutation = Permutation::new(phone_space, &mut rng);
        let id_permutation = Permutation::new(id_space, &mut rng);
        Generator {
            rng,
            all_birthdays: false,
            phone_permutation,
            id_permutation,
            birth_first_day,
            birth_days,
            enrolled_first_day,
            enrolled_days,
        }
    }

    fn capacity(&self) -> u64 {
        self.phone_permutation
            .domain
            .min(self.id_permutation.domain)
    }

    /// One CSV row for row `index` (0-based), without the line end.
    fn row(&mut self, index: u64, line: &mut String) {
        use std::fmt::Write as _;
        line.clear();

        // Phone: the index picks a unique (prefix, subscriber number) pair.
        let phone_key = self.phone_permutation.apply(index);
        let prefix = PHONE_PREFIXES[(phone_key / PHONE_SUBSCRIBERS_PER_PREFIX) as usize];
        let subscriber = phone_key % PHONE_SUBSCRIBERS_PER_PREFIX;

        // ID: the index picks a unique (store area, birth date, sequence) triple.
        let mut key = self.id_permutation.apply(index);
        let sequence = key % ID_SEQUENCES;
        key /= ID_SEQUENCES;
        let birth_offset = key % self.birth_days;
        key /= self.birth_days;
        let area_index = key % AREAS_PER_STORE;
        let store_index = key / AREAS_PER_STORE;
        let store = STORES[store_index as usize];
        let area = AREAS[store_index as usize][area_index as usize];
        let birth_day = self.birth_first_day + i64::try_from(birth_offset).unwrap_or(0);
        let (birth_year, birth_month, birth_dom) = civil_from_days(birth_day);
        // GB 11643: the sequence's last digit is odd for men, even for women.
        let male = sequence % 2 == 1;

        let mut id = String::with_capacity(18);
        let _ = write!(
            id,
            "{area}{birth_year:04}{birth_month:02}{birth_dom:02}{sequence:03}"
        );
        let check = id_check_char(id.as_bytes());
        id.push(check);

        let surname = self.rng.pick(&SURNAMES);
        let given = self
            .rng
            .pick(if male { &GIVEN_MALE } else { &GIVEN_FEMALE });
        let gender = if male { 'M' } else { 'F' };
        // A few members state their birthday; the rest leave it to the ID (R4).
        let stated_birthday = if self.rng.below(10) == 0 || self.all_birthdays {
            format!("{birth_year:04}-{birth_month:02}-{birth_dom:02}")
        } else {
            String::new()
        };
        let enrolled_day = self.enrolled_first_day
            + i64::try_from(self.rng.below(self.enrolled_days)).unwrap_or(0);
        let (enrolled_year, enrolled_month, enrolled_dom) = civil_from_days(enrolled_day);

        let _ = write!(
            line,
            "G{card:09},{surname}{given},1{prefix}{subscriber:09},{id},{stated_birthday},{gender},{store},,{enrolled_year:04}-{enrolled_month:02}-{enrolled_dom:02}",
            card = index + 1,
        );
    }
}

fn parse_arg(value: Option<String>, default: u64, what: &str) -> Result<u64, String> {
    match value {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| format!("error: {what} must be a non-negative integer, got {text:?}")),
    }
}

fn run() -> Result<(), String> {
    let mut args = env::args().skip(1);
    let count = parse_arg(args.next(), COUNT_DEFAULT, "count")?;
    let seed = parse_arg(args.next(), SEED_DEFAULT, "seed")?;
    let all_birthdays = match args.next().as_deref() {
        None | Some("some") => false,
        Some("all") => true,
        Some(other) => return Err(format!("error: BIRTHDAYS is all or some, got {other:?}")),
    };
    if args.next().is_some() {
        return Err("usage: gen_members [COUNT] [SEED] [BIRTHDAYS]".to_owned());
    }
    let mut generator = Generator::new(seed);
    generator.all_birthdays = all_birthdays;
    // Cards are G + 9 digits.
    let capacity = generator.capacity().min(999_999_999);
    if count > capacity {
        return Err(format!(
            "error: count {count} exceeds the {capacity} unique members this generator can make"
        ));
    }

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = String::with_capacity(128);
    let result = (|| -> io::Result<()> {
        writeln!(out, "{HEADER}")?;
        for index in 0..count {
            generator.row(index, &mut line);
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()
    })();
    match result {
        // `gen_members | head` is fine.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(format!("error: writing stdout: {error}")),
        Ok(()) => Ok(()),
    }
}

const USAGE: &str = "usage: gen_members [COUNT] [SEED] [some|all]
Writes a members CSV (the columns of fixtures/members.csv) to stdout, every
row valid and unique. COUNT rows (default 200000), SEED (default 42);
`all` gives every row a birthday (by default one in ten has one).
  gen_members 200000 > members.csv
  gen_members 200000 42 all > members.csv";

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
