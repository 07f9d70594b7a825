//! `vipctl report …` (R31–R35): every row of care, dormant, birthdays, tiers,
//! stores, staff and top on small databases whose answers are worked out by
//! hand, boundaries included.
//!
//! All databases run the menswear program (1 point per yuan, no multipliers or
//! bonus; C → B at 1500 points and → A at 3000 points earned in 365 days,
//! lifted at once by the purchase; tier A is called every 30 days, C every 90,
//! B has no cadence). The working date is 2026-11-20 (`T`) unless a test says
//! otherwise; the time zone is Asia/Shanghai (UTC+8), so a receipt at 07:30
//! local time is stored the day before in UTC.
//!
//! Days before T: 6 = 2026-11-14, 7 = 11-13, 8 = 11-12, 29 = 10-22,
//! 30 = 10-21, 89 = 08-23, 90 = 08-22, 100 = 08-12, 179 = 05-25,
//! 180 = 05-24, 200 = 05-04. The default reporting period is the 365 days
//! 2025-11-21..=2026-11-20.

use crate::workdir::{resident_id, stderr_of, stdout_of, Workdir};
use serde_json::{json, Value};

// ---------------------------------------------------------------- helpers

/// The working date of this module.
const T: &str = "2026-11-20";

/// A member as the tests enrol them.
#[derive(Clone, Copy)]
struct P {
    /// Two characters, so that the masked name is the first one and `*`.
    name: &'static str,
    phone: &'static str,
    /// The birthday, also the birth date inside the ID number.
    born: &'static str,
    store: &'static str,
    staff: &'static str,
    enrolled: &'static str,
}

/// An 18-digit resident ID (GB 11643) born on `born` with sequence `seq`.
fn id_number(born: &str, seq: usize) -> String {
    resident_id(&format!("110101{}{:03}", born.replace('-', ""), seq % 1000))
}

#[test]
fn id_numbers_carry_the_gb11643_check_digit() {
    // Two IDs of fixtures/members.csv (one with the check digit X).
    assert_eq!(id_number("1984-03-30", 681), "110101198403306818");
    assert_eq!(id_number("1998-09-01", 107), "11010119980901107X");
}

/// A database with the menswear program and nothing else.
fn menswear_db() -> Workdir {
    let wd = Workdir::new();
    wd.init("rules-menswear");
    wd
}

/// `report ARGS… --format json` as of `day`, compared whole with `expected`.
fn check_report(wd: &Workdir, day: &str, args: &[&str], expected: &[Value]) {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    let got = wd.json_on(day, &all);
    let want = Value::Array(expected.to_vec());
    assert!(
        got == want,
        "vipctl --as-of {day} report {args:?}\n--- got:\n{}\n--- expected:\n{}",
        pretty_rows(&got),
        pretty_rows(&want)
    );
}

/// One row per line, for readable failures.
fn pretty_rows(v: &Value) -> String {
    match v.as_array() {
        Some(rows) => rows
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        None => v.to_string(),
    }
}

/// Enrols `people` from one members file (as of T) and returns their member
/// numbers, in order.
fn enroll_all(wd: &Workdir, people: &[P]) -> Vec<String> {
    let mut text = String::from("name,phone,id_number,birthday,store,staff,enrolled_at\n");
    for (i, p) in people.iter().enumerate() {
        text.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            p.name,
            p.phone,
            id_number(p.born, i + 1),
            p.born,
            p.store,
            p.staff,
            p.enrolled
        ));
    }
    let f = wd.write("members.csv", &text);
    let s = wd.json_on(T, &["enroll", "--file", f.to_str().unwrap()]);
    assert_eq!(s["accepted"], people.len() as u64, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    people.iter().map(|p| member_no(wd, p.phone)).collect()
}

fn member_no(wd: &Workdir, phone: &str) -> String {
    wd.conn()
        .query_row(
            "SELECT member_no FROM members WHERE phone = ?1",
            [phone],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no member with phone {phone}: {e}"))
}

/// The header of the receipts files written by these tests.
const RECEIPTS: &str = "store,receipt,member,time,amount,staff,type,original_receipt";

/// Imports receipt rows (`RECEIPTS` columns); every one must be accepted.
fn import(wd: &Workdir, name: &str, rows: &[&str]) -> Value {
    let mut text = format!("{RECEIPTS}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let f = wd.write(name, &text);
    let s = wd.json_on(T, &["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    let imported = s["receipts_imported"].as_u64().unwrap() + s["returns"].as_u64().unwrap();
    assert_eq!(imported, rows.len() as u64, "{s}");
    s
}

/// Registers staff (`code,name,store` rows).
fn add_staff(wd: &Workdir, rows: &str) {
    let f = wd.write("staff.csv", &format!("code,name,store\n{rows}"));
    let s = wd.json_on(T, &["staff", "add", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
}

/// `(name, phone)` as a report shows them: masked unless `pii` (R35).
fn shown(p: &P, pii: bool) -> (String, String) {
    if pii {
        return (p.name.to_string(), p.phone.to_string());
    }
    let mut chars = p.name.chars();
    let first = chars.next().unwrap();
    assert_eq!(chars.count(), 1, "the tests use two-character names");
    (
        format!("{first}*"),
        format!("{}****{}", &p.phone[..3], &p.phone[7..]),
    )
}

/// `null` for an empty code.
fn code(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        json!(s)
    }
}

/// A `report care` row.
fn care_row(no: &str, p: &P, pii: bool, tier: &str, reason: &str, detail: &str) -> Value {
    let (name, phone) = shown(p, pii);
    json!({
        "member_no": no, "name": name, "phone": phone, "tier": tier,
        "reason": reason, "detail": detail,
        "store": code(p.store), "staff": code(p.staff),
    })
}

/// The rows whose `key` equals `value`.
fn only(rows: &[Value], key: &str, value: &str) -> Vec<Value> {
    rows.iter().filter(|r| r[key] == value).cloned().collect()
}

/// `report ARGS…` as CSV holds the same rows as JSON, field by field in the
/// JSON's key order (null printed as an empty field, numbers as digits).
fn csv_matches_json(wd: &Workdir, day: &str, args: &[&str]) {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    let rows = wd.json_on(day, &all);
    let rows = rows.as_array().unwrap();
    let mut all = vec!["--format", "csv", "report"];
    all.extend_from_slice(args);
    let text = wd.ok_on(day, &all);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let records: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(records.len(), rows.len(), "report {args:?}:\n{text}");
    for (rec, row) in records.iter().zip(rows) {
        let obj = row.as_object().unwrap();
        let keys: Vec<&String> = obj.keys().collect();
        assert_eq!(
            header.iter().collect::<Vec<_>>(),
            keys,
            "report {args:?}: CSV header and JSON keys"
        );
        let want: Vec<String> = obj
            .values()
            .map(|v| match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(rec, &want, "report {args:?}:\n{text}");
    }
}

/// The CSV header a report prints.
fn csv_header(wd: &Workdir, args: &[&str]) -> String {
    let mut all = vec!["--format", "csv", "report"];
    all.extend_from_slice(args);
    wd.ok_on(T, &all).lines().next().unwrap_or("").to_string()
}

// ---------------------------------------------------------------- care (R31, R32, R35)

const F7: P = P {
    name: "张伟",
    phone: "13800138000",
    born: "1990-05-15",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-11-01",
};
const F6: P = P {
    name: "李六",
    phone: "13900000002",
    born: "1990-05-16",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-11-01",
};
const F8: P = P {
    name: "王八",
    phone: "13900000003",
    born: "1990-05-17",
    store: "SH01",
    staff: "S004",
    enrolled: "2026-11-01",
};
const B0: P = P {
    name: "赵今",
    phone: "13900000004",
    born: "1990-11-20",
    store: "SH01",
    staff: "S004",
    enrolled: "2026-11-01",
};
const B6: P = P {
    name: "钱六",
    phone: "13900000005",
    born: "1985-11-26",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-11-01",
};
const B7: P = P {
    name: "孙七",
    phone: "13900000006",
    born: "1985-11-27",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-11-01",
};
const LEAP: P = P {
    name: "周闰",
    phone: "13900000007",
    born: "2000-02-29",
    store: "GZ01",
    staff: "S007",
    enrolled: "2026-11-01",
};
const R90: P = P {
    name: "吴九",
    phone: "13900000008",
    born: "1980-03-01",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-01-10",
};
const R89: P = P {
    name: "郑八",
    phone: "13900000009",
    born: "1980-03-02",
    store: "SH01",
    staff: "S004",
    enrolled: "2026-01-10",
};
const D179: P = P {
    name: "冯九",
    phone: "13900000010",
    born: "1980-03-03",
    store: "SH01",
    staff: "S004",
    enrolled: "2026-01-10",
};
const D180: P = P {
    name: "陈十",
    phone: "13900000011",
    born: "1980-03-04",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-01-10",
};
const A30: P = P {
    name: "卫甲",
    phone: "13900000013",
    born: "1980-03-05",
    store: "SH01",
    staff: "S004",
    enrolled: "2026-10-21",
};
const A29: P = P {
    name: "蒋乙",
    phone: "13900000014",
    born: "1980-03-06",
    store: "BJ01",
    staff: "S001",
    enrolled: "2026-10-22",
};
const C90: P = P {
    name: "沈丙",
    phone: "13900000015",
    born: "1980-03-07",
    store: "SH01",
    staff: "S004",
    enrolled: "2026-08-22",
};
/// Enrolled today from flags (not in the members file).
const NEW0: P = P {
    name: "褚新",
    phone: "13900000012",
    born: "1980-03-08",
    store: "BJ01",
    staff: "S001",
    enrolled: T,
};

/// The care database: the members above, in this order (NEW0 last, from
/// flags on T), and their receipts. Returns the member numbers.
fn care_db() -> (Workdir, Vec<String>) {
    let wd = menswear_db();
    let people = [
        F7, F6, F8, B0, B6, B7, LEAP, R90, R89, D179, D180, A30, A29, C90,
    ];
    let mut nos = enroll_all(&wd, &people);
    let out = wd.ok_on(
        T,
        &[
            "enroll",
            "--name",
            NEW0.name,
            "--phone",
            NEW0.phone,
            "--id-number",
            &id_number(NEW0.born, 99),
            "--store",
            NEW0.store,
            "--staff",
            NEW0.staff,
        ],
    );
    nos.push(out.trim().to_string());
    assert_eq!(nos[14], member_no(&wd, NEW0.phone));
    import(
        &wd,
        "care.csv",
        &[
            // R89 / R90 / D179 / D180 buy 1500 yuan: tier B, which has no cadence.
            "SH01,K1,13900000010,2026-05-25 10:00,1500.00,S004,,",
            "BJ01,K2,13900000011,2026-05-24 10:00,1500.00,S001,,",
            "BJ01,K3,13900000008,2026-08-22 10:00,1500.00,S001,,",
            "SH01,K4,13900000009,2026-08-23 10:00,1500.00,S004,,",
            // A30 and A29 reach tier A on 10-25 (26 days ago: nothing else to say).
            "SH01,K5,13900000013,2026-10-25 10:00,3000.00,S004,,",
            "BJ01,K6,13900000014,2026-10-25 10:00,3000.00,S001,,",
            // F8: first purchase 8 days ago, another 7 days ago.
            "SH01,K7,13900000003,2026-11-12 23:30,100.00,S004,,",
            // F7: first purchase 7 days ago, at 07:30 local (11-12 in UTC).
            "BJ01,K8,13800138000,2026-11-13 07:30,100.00,S001,,",
            "SH01,K9,13900000003,2026-11-13 10:00,50.00,S004,,",
            // F6: first purchase 6 days ago.
            "BJ01,K10,13900000002,2026-11-14 10:00,100.00,S001,,",
            // A non-member sale changes nothing on the care list.
            "BJ01,K11,,2026-11-13 10:00,80.00,S001,,",
        ],
    );
    (wd, nos)
}

/// The care list of the care database on T with `--days 7`, before any call
/// is recorded, in member order and, per member, in the order
/// follow-up, birthday, at risk / dormant, cadence.
fn care_expected(nos: &[String], pii: bool) -> Vec<Value> {
    vec![
        care_row(
            &nos[0],
            &F7,
            pii,
            "C",
            "new_member_followup",
            "first purchase on 2026-11-13",
        ),
        care_row(
            &nos[2],
            &F8,
            pii,
            "C",
            "new_member_followup",
            "first purchase on 2026-11-12",
        ),
        care_row(&nos[3], &B0, pii, "C", "birthday", "birthday 11-20 today"),
        care_row(
            &nos[4],
            &B6,
            pii,
            "C",
            "birthday",
            "birthday 11-26 in 6 days",
        ),
        care_row(
            &nos[7],
            &R90,
            pii,
            "B",
            "at_risk",
            "90 days without a purchase; last purchase on 2026-08-22",
        ),
        care_row(
            &nos[8],
            &R89,
            pii,
            "B",
            "new_member_followup",
            "first purchase on 2026-08-23",
        ),
        care_row(
            &nos[9],
            &D179,
            pii,
            "B",
            "at_risk",
            "179 days without a purchase; last purchase on 2026-05-25",
        ),
        care_row(
            &nos[10],
            &D180,
            pii,
            "B",
            "dormant",
            "180 days without a purchase; last purchase on 2026-05-24",
        ),
        care_row(
            &nos[11],
            &A30,
            pii,
            "A",
            "new_member_followup",
            "first purchase on 2026-10-25",
        ),
        care_row(
            &nos[11],
            &A30,
            pii,
            "A",
            "cadence_call",
            "never called since enrolment on 2026-10-21, 30 days ago; the tier calls every 30 days",
        ),
        care_row(
            &nos[12],
            &A29,
            pii,
            "A",
            "new_member_followup",
            "first purchase on 2026-10-25",
        ),
        care_row(
            &nos[13],
            &C90,
            pii,
            "C",
            "at_risk",
            "90 days without a purchase; no purchase since enrolment on 2026-08-22",
        ),
        care_row(
            &nos[13],
            &C90,
            pii,
            "C",
            "cadence_call",
            "never called since enrolment on 2026-08-22, 90 days ago; the tier calls every 90 days",
        ),
    ]
}

#[test]
fn r31_r32_report_care_lists_every_reason_on_its_boundary_day() {
    let (wd, nos) = care_db();
    // Not listed: F6 (first purchase 6 days ago), B7 (birthday in 7 days),
    // LEAP, NEW0 (enrolled today, no purchase). R31: a follow-up is listed
    // from the day it falls due until the member is contacted, not only on
    // that day: F8 (first purchase 8 days ago), R89 (89 days, not yet at
    // risk), A30 and A29 (26 days) are still due.
    let expected = care_expected(&nos, false);
    check_report(&wd, T, &["care"], &expected);
    check_report(&wd, T, &["care", "--days", "7"], &expected);

    // The masks of SPEC.md, literally.
    assert_eq!(expected[0]["name"], "张*");
    assert_eq!(expected[0]["phone"], "138****8000");

    // --days 8 adds B7's birthday in 7 days, after B6's.
    let mut wider = expected.clone();
    wider.insert(
        4,
        care_row(
            &nos[5],
            &B7,
            false,
            "C",
            "birthday",
            "birthday 11-27 in 7 days",
        ),
    );
    check_report(&wd, T, &["care", "--days", "8"], &wider);
    // --days 1: only today's birthday.
    let narrow: Vec<Value> = expected
        .iter()
        .filter(|r| r["detail"] != "birthday 11-26 in 6 days")
        .cloned()
        .collect();
    check_report(&wd, T, &["care", "--days", "1"], &narrow);
}

#[test]
fn r35_report_care_masks_unless_include_pii_and_filters_by_store_and_staff() {
    let (wd, nos) = care_db();
    let full = care_expected(&nos, true);
    assert_eq!(full[0]["name"], "张伟");
    assert_eq!(full[0]["phone"], "13800138000");
    check_report(&wd, T, &["care", "--include-pii"], &full);

    let masked = care_expected(&nos, false);
    let sh01 = only(&masked, "store", "SH01");
    assert_eq!(
        sh01.len(),
        8,
        "F8, B0, R89, D179, A30 twice (follow-up, cadence) and C90 twice"
    );
    check_report(&wd, T, &["care", "--store", "SH01"], &sh01);
    let s001 = only(&masked, "staff", "S001");
    assert_eq!(s001.len(), 5, "F7, B6, R90, D180, A29");
    check_report(&wd, T, &["care", "--staff", "S001"], &s001);
    check_report(
        &wd,
        T,
        &["care", "--staff", "S001", "--include-pii"],
        &only(&full, "staff", "S001"),
    );
    // Both filters: the members of S004 in SH01; none of a store with no rows.
    check_report(
        &wd,
        T,
        &["care", "--store", "SH01", "--staff", "S004"],
        &sh01,
    );
    check_report(&wd, T, &["care", "--store", "BJ01", "--staff", "S004"], &[]);
    check_report(&wd, T, &["care", "--store", "XX99"], &[]);

    // The CSV has the SPEC's header and the masked values.
    let csv = wd.ok_on(T, &["--format", "csv", "report", "care"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("member_no,name,phone,tier,reason,detail,store,staff")
    );
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "{},张*,138****8000,C,new_member_followup,first purchase on 2026-11-13,BJ01,S001",
                nos[0]
            )
            .as_str()
        )
    );
    assert_eq!(csv.lines().count(), 1 + masked.len(), "{csv}");
    assert!(
        !csv.contains("13800138000") && !csv.contains("张伟"),
        "{csv}"
    );
    // Details with commas are quoted: every field equals the JSON's.
    csv_matches_json(&wd, T, &["care"]);
    csv_matches_json(&wd, T, &["care", "--include-pii"]);
}

#[test]
fn r32_member_contacted_restarts_the_call_cadence() {
    let (wd, nos) = care_db();
    // A call recorded on T: A30's cadence and follow-up rows go, and so do
    // C90's cadence and at-risk rows (R31: listed from the day they qualify
    // until contacted; C90 crossed 90 days on T, the day of the call).
    for no in [&nos[11], &nos[13]] {
        let out = wd.json_on(
            T,
            &["member", "contacted", no, "--note", "invited to the sale"],
        );
        assert_eq!(out["member_no"], no.as_str(), "{out}");
    }
    let called = [nos[11].as_str(), nos[13].as_str()];
    let after: Vec<Value> = care_expected(&nos, false)
        .into_iter()
        .filter(|r| r["reason"] != "cadence_call")
        .filter(|r| !called.contains(&r["member_no"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(after.len(), 9);
    check_report(&wd, T, &["care"], &after);

    // 30 days after the call A30 is due again; C90 (quarterly) is not. On
    // 2026-12-20 everyone has drifted: worked out row by row.
    // F7, F6, F8: follow-ups due since 11-20/21/19, never called (R31: still
    // listed); B0/B6/B7 birthdays passed; LEAP and the 11-01 enrolments are
    // at 49 days; R90 (08-22) 120 days at risk; R89 (08-23) 119 at risk;
    // D179 (05-25) 209 dormant; D180 (05-24) 210 dormant; A30 last purchase
    // 10-25 (56 days), called 11-20 (30 days: the follow-up is answered);
    // A29 never called since 10-22 (59 days ≥ 30), follow-up still due; C90
    // enrolled 08-22 (120 days at risk) was called on 11-20, the day it
    // became at risk, so that call answers it; NEW0 enrolled 11-20 (30 days).
    let p = false;
    check_report(
        &wd,
        "2026-12-20",
        &["care"],
        &[
            care_row(
                &nos[0],
                &F7,
                p,
                "C",
                "new_member_followup",
                "first purchase on 2026-11-13",
            ),
            care_row(
                &nos[1],
                &F6,
                p,
                "C",
                "new_member_followup",
                "first purchase on 2026-11-14",
            ),
            care_row(
                &nos[2],
                &F8,
                p,
                "C",
                "new_member_followup",
                "first purchase on 2026-11-12",
            ),
            care_row(
                &nos[7],
                &R90,
                p,
                "B",
                "at_risk",
                "120 days without a purchase; last purchase on 2026-08-22",
            ),
            care_row(
                &nos[8],
                &R89,
                p,
                "B",
                "at_risk",
                "119 days without a purchase; last purchase on 2026-08-23",
            ),
            care_row(
                &nos[9],
                &D179,
                p,
                "B",
                "dormant",
                "209 days without a purchase; last purchase on 2026-05-25",
            ),
            care_row(
                &nos[10],
                &D180,
                p,
                "B",
                "dormant",
                "210 days without a purchase; last purchase on 2026-05-24",
            ),
            care_row(
                &nos[11],
                &A30,
                p,
                "A",
                "cadence_call",
                "last call on 2026-11-20, 30 days ago; the tier calls every 30 days",
            ),
            care_row(
                &nos[12],
                &A29,
                p,
                "A",
                "new_member_followup",
                "first purchase on 2026-10-25",
            ),
            care_row(
                &nos[12],
                &A29,
                p,
                "A",
                "cadence_call",
                "never called since enrolment on 2026-10-22, 59 days ago; the tier calls every 30 days",
            ),
        ],
    );
}

#[test]
fn r32_report_care_lists_a_29_february_birthday_on_28_february_of_a_common_year() {
    let (wd, nos) = care_db();
    // 2027 is not a leap year. LEAP (GZ01) was enrolled on 2026-11-01 and
    // never bought: 119 days, at risk, and a C member never called.
    let p = false;
    check_report(
        &wd,
        "2027-02-28",
        &["care", "--store", "GZ01"],
        &[
            care_row(&nos[6], &LEAP, p, "C", "birthday", "birthday 02-29 today"),
            care_row(
                &nos[6],
                &LEAP,
                p,
                "C",
                "at_risk",
                "119 days without a purchase; no purchase since enrolment on 2026-11-01",
            ),
            care_row(
                &nos[6],
                &LEAP,
                p,
                "C",
                "cadence_call",
                "never called since enrolment on 2026-11-01, 119 days ago; the tier calls every 90 days",
            ),
        ],
    );
    // The day before, the birthday is tomorrow.
    let before = wd.json_on(
        "2027-02-27",
        &["report", "care", "--store", "GZ01", "--days", "2"],
    );
    let detail = before[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("birthday 02-29 in 1 day"), "{before}");
    assert_eq!(before[0]["reason"], "birthday", "{before}");
}

/// A tier-A member called at 07:00 local time (23:00 UTC the day before).
fn early_call_db() -> (Workdir, P, String) {
    let wd = menswear_db();
    let a = P {
        name: "林早",
        phone: "13900000501",
        born: "1980-06-01",
        store: "BJ01",
        staff: "S001",
        enrolled: "2026-09-01",
    };
    let no = enroll_all(&wd, &[a]).remove(0);
    import(
        &wd,
        "a.csv",
        &["BJ01,E1,13900000501,2026-09-05 10:00,3000.00,S001,,"],
    );
    wd.ok_at(
        "2026-10-22",
        "2026-10-22 07:00",
        &["member", "contacted", &no],
    );
    (wd, a, no)
}

#[test]
fn r32_call_cadence_counts_days_in_the_programs_time_zone() {
    let (wd, a, no) = early_call_db();
    // 29 local days after the call: not due. (Last purchase 09-05, 76 days.)
    check_report(&wd, T, &["care"], &[]);
    check_report(
        &wd,
        "2026-11-21",
        &["care"],
        &[care_row(
            &no,
            &a,
            false,
            "A",
            "cadence_call",
            "last call on 2026-10-22, 30 days ago; the tier calls every 30 days",
        )],
    );
}

// ---------------------------------------------------------------- dormant (R31)

#[test]
fn r31_report_dormant_counts_days_from_the_last_purchase_or_enrolment() {
    let wd = menswear_db();
    let people = [
        // 1: last purchase 180 days ago.
        P {
            name: "甲一",
            phone: "13900000101",
            born: "1980-01-01",
            store: "BJ01",
            staff: "S001",
            enrolled: "2026-01-10",
        },
        // 2: last purchase 179 days ago.
        P {
            name: "乙二",
            phone: "13900000102",
            born: "1980-01-02",
            store: "SH01",
            staff: "S004",
            enrolled: "2026-01-10",
        },
        // 3: enrolled 200 days ago, never bought, no staff.
        P {
            name: "丙三",
            phone: "13900000103",
            born: "1980-01-03",
            store: "BJ01",
            staff: "",
            enrolled: "2026-05-04",
        },
        // 4: enrolled 10 days ago, never bought.
        P {
            name: "丁四",
            phone: "13900000104",
            born: "1980-01-04",
            store: "BJ01",
            staff: "S001",
            enrolled: "2026-11-10",
        },
        // 5: bought 300 and 100 days ago; a return 50 days ago is no purchase.
        P {
            name: "戊五",
            phone: "13900000105",
            born: "1980-01-05",
            store: "SH01",
            staff: "S004",
            enrolled: "2026-01-10",
        },
        // 6: last purchase 89 days ago.
        P {
            name: "己六",
            phone: "13900000106",
            born: "1980-01-06",
            store: "SH01",
            staff: "S004",
            enrolled: "2026-01-10",
        },
    ];
    let nos = enroll_all(&wd, &people);
    import(
        &wd,
        "d.csv",
        &[
            "SH01,D1,13900000105,2026-01-24 10:00,300.00,S004,,",
            "BJ01,D2,13900000101,2026-05-24 10:00,1500.00,S001,,",
            "SH01,D3,13900000102,2026-05-25 10:00,200.00,S004,,",
            "SH01,D4,13900000105,2026-08-12 10:00,200.00,S004,,",
            "SH01,D5,13900000106,2026-08-23 10:00,80.00,S004,,",
            "SH01,D6,13900000105,2026-10-01 10:00,50.00,S004,return,D4",
        ],
    );
    let row = |i: usize, pii: bool, tier: &str, last: Option<&str>, days: i64, points: i64| {
        let p = &people[i];
        let (name, phone) = shown(p, pii);
        json!({
            "member_no": nos[i], "name": name, "phone": phone, "tier": tier,
            "last_purchase": last, "days_since": days, "points": points,
            "store": code(p.store), "staff": code(p.staff),
        })
    };
    let d180 = |pii| {
        vec![
            row(0, pii, "B", Some("2026-05-24"), 180, 1500),
            row(2, pii, "C", None, 200, 0),
        ]
    };
    check_report(&wd, T, &["dormant"], &d180(false));
    check_report(&wd, T, &["dormant", "--days", "180"], &d180(false));
    check_report(&wd, T, &["dormant", "--include-pii"], &d180(true));
    let d90 = vec![
        row(0, false, "B", Some("2026-05-24"), 180, 1500),
        row(1, false, "C", Some("2026-05-25"), 179, 200),
        row(2, false, "C", None, 200, 0),
        row(4, false, "C", Some("2026-08-12"), 100, 450),
    ];
    check_report(&wd, T, &["dormant", "--days", "90"], &d90);
    check_report(
        &wd,
        T,
        &["dormant", "--days", "90", "--store", "SH01"],
        &only(&d90, "store", "SH01"),
    );
    check_report(
        &wd,
        T,
        &["dormant", "--days", "90", "--staff", "S001"],
        &[row(0, false, "B", Some("2026-05-24"), 180, 1500)],
    );
    // --days 10 reaches the member enrolled 10 days ago and the one who
    // bought 89 days ago.
    let d10 = vec![
        row(0, false, "B", Some("2026-05-24"), 180, 1500),
        row(1, false, "C", Some("2026-05-25"), 179, 200),
        row(2, false, "C", None, 200, 0),
        row(3, false, "C", None, 10, 0),
        row(4, false, "C", Some("2026-08-12"), 100, 450),
        row(5, false, "C", Some("2026-08-23"), 89, 80),
    ];
    check_report(&wd, T, &["dormant", "--days", "10"], &d10);
    csv_matches_json(&wd, T, &["dormant", "--days", "10"]);

    // As CSV: the SPEC's header, an empty last_purchase, masked values.
    let csv = wd.ok_on(T, &["--format", "csv", "report", "dormant"]);
    assert_eq!(
        csv,
        format!(
            "member_no,name,phone,tier,last_purchase,days_since,points,store,staff\n\
             {},甲*,139****0101,B,2026-05-24,180,1500,BJ01,S001\n\
             {},丙*,139****0103,C,,200,0,BJ01,\n",
            nos[0], nos[2]
        )
    );
}

// ---------------------------------------------------------------- birthdays (R32)

#[test]
fn r32_report_birthdays_counts_days_until_and_lists_in_member_order() {
    let wd = menswear_db();
    let person = |name, phone, born, store| P {
        name,
        phone,
        born,
        store,
        staff: "S001",
        enrolled: "2026-01-10",
    };
    let people = [
        person("生零", "13900000601", "1990-11-20", "BJ01"),
        person("生九", "13900000602", "1991-11-29", "BJ01"),
        person("生一", "13900000603", "1992-11-21", "SH01"),
        person("生十", "13900000604", "1993-11-30", "BJ01"),
        person("闰日", "13900000605", "2000-02-29", "BJ01"),
        person("元旦", "13900000606", "1995-01-02", "BJ01"),
        person("昨日", "13900000607", "1990-11-19", "BJ01"),
    ];
    let nos = enroll_all(&wd, &people);
    let row = |i: usize, pii: bool, until: i64| {
        let p = &people[i];
        let (name, phone) = shown(p, pii);
        json!({
            "member_no": nos[i], "name": name, "phone": phone, "tier": "C",
            // Masked: month and day only (SPEC "Masking hides, it does not encode").
            "birthday": if pii { p.born.to_string() } else { format!("**{}", &p.born[4..]) },
            "days_until": until,
            "store": code(p.store), "staff": code(p.staff),
        })
    };
    // --days N: today and the next N − 1 days; rows in member order, not by
    // days_until (as emitted). Yesterday's birthday is 364 days away.
    check_report(
        &wd,
        T,
        &["birthdays"],
        &[row(0, false, 0), row(2, false, 1)],
    );
    check_report(
        &wd,
        T,
        &["birthdays", "--days", "10"],
        &[row(0, false, 0), row(1, false, 9), row(2, false, 1)],
    );
    check_report(
        &wd,
        T,
        &["birthdays", "--days", "11", "--include-pii"],
        &[
            row(0, true, 0),
            row(1, true, 9),
            row(2, true, 1),
            row(3, true, 10),
        ],
    );
    check_report(
        &wd,
        T,
        &["birthdays", "--days", "11", "--store", "SH01"],
        &[row(2, false, 1)],
    );
    check_report(
        &wd,
        T,
        &["birthdays", "--days", "365"],
        &[
            row(0, false, 0),
            row(1, false, 9),
            row(2, false, 1),
            row(3, false, 10),
            row(4, false, 100), // 2027-02-28
            row(5, false, 43),  // 2027-01-02
            row(6, false, 364), // 2027-11-19
        ],
    );
    check_report(&wd, T, &["birthdays", "--days", "0"], &[]);
    // Across the new year.
    check_report(
        &wd,
        "2026-12-28",
        &["birthdays", "--days", "7"],
        &[row(5, false, 5)],
    );
    // 29 February: on 28 February in a common year, 29 February in a leap year.
    check_report(
        &wd,
        "2027-02-28",
        &["birthdays", "--days", "1"],
        &[row(4, false, 0)],
    );
    check_report(
        &wd,
        "2027-02-27",
        &["birthdays", "--days", "2"],
        &[row(4, false, 1)],
    );
    csv_matches_json(&wd, T, &["birthdays", "--days", "365"]);
    check_report(&wd, "2028-02-28", &["birthdays", "--days", "1"], &[]);
    check_report(
        &wd,
        "2028-02-28",
        &["birthdays", "--days", "2"],
        &[row(4, false, 1)],
    );
    check_report(
        &wd,
        "2028-02-29",
        &["birthdays", "--days", "1"],
        &[row(4, false, 0)],
    );
}

// ---------------------------------------------------------------- tiers (R34)

#[test]
fn r34_report_tiers_members_and_spend_per_tier_with_shares() {
    let wd = menswear_db();
    let person = |name, phone, born| P {
        name,
        phone,
        born,
        store: "BJ01",
        staff: "S001",
        enrolled: "2025-10-01",
    };
    enroll_all(
        &wd,
        &[
            person("甲级", "13900000701", "1980-02-01"),
            person("乙级", "13900000702", "1980-02-02"),
            person("丙一", "13900000703", "1980-02-03"),
            person("丙二", "13900000704", "1980-02-04"),
            person("丙三", "13900000705", "1980-02-05"),
            person("丙四", "13900000706", "1980-02-06"),
        ],
    );
    import(
        &wd,
        "t.csv",
        &[
            // The day before the window, and its first day.
            "BJ01,T5,13900000705,2025-11-20 10:00,400.00,S001,,",
            "BJ01,T6,13900000706,2025-11-21 10:00,50.00,S001,,",
            "BJ01,T1,13900000701,2026-06-01 10:00,3000.00,S001,,",
            "BJ01,T2,13900000702,2026-07-01 10:00,1500.00,S001,,",
            "BJ01,T2R,13900000702,2026-07-02 10:00,100.00,S001,return,T2",
            "BJ01,T3,13900000703,2026-08-01 10:00,100.00,S001,,",
            // A non-member sale is no tier's spend.
            "BJ01,T7,,2026-08-01 10:00,999.00,S001,,",
        ],
    );
    let row = |tier: &str, name: &str, members: i64, ms: &str, spend: &str, ss: &str| {
        json!({
            "tier": tier, "name": name, "members": members, "members_share": ms,
            "spend": spend, "spend_share": ss,
        })
    };
    // Members: A 1, B 1, C 4 of 6. Spend 2025-11-21..2026-11-20: A 3000,
    // B 1500 − 100 returned = 1400, C 100 + 50 = 150 (T5 is outside); of
    // 4550: 0.659340… → 0.6593, 0.307692… → 0.3077, 0.032967… → 0.0330.
    // The rows are in the program's ladder order.
    check_report(
        &wd,
        T,
        &["tiers"],
        &[
            row("C", "C类会员", 4, "0.6667", "150.00", "0.0330"),
            row("B", "B类会员", 1, "0.1667", "1400.00", "0.3077"),
            row("A", "A类会员", 1, "0.1667", "3000.00", "0.6593"),
        ],
    );
    csv_matches_json(&wd, T, &["tiers"]);
    // One day: only T5.
    check_report(
        &wd,
        T,
        &["tiers", "--from", "2025-11-20", "--to", "2025-11-20"],
        &[
            row("C", "C类会员", 4, "0.6667", "400.00", "1.0000"),
            row("B", "B类会员", 1, "0.1667", "0.00", "0.0000"),
            row("A", "A类会员", 1, "0.1667", "0.00", "0.0000"),
        ],
    );
    // No spend at all: shares of nothing are 0.0000.
    check_report(
        &wd,
        T,
        &["tiers", "--from", "2027-01-01", "--to", "2027-01-31"],
        &[
            row("C", "C类会员", 4, "0.6667", "0.00", "0.0000"),
            row("B", "B类会员", 1, "0.1667", "0.00", "0.0000"),
            row("A", "A类会员", 1, "0.1667", "0.00", "0.0000"),
        ],
    );
    // --as-of moves the default window: as of 2026-06-30 it is
    // 2025-07-01..2026-06-30, so T5 (400) counts and T2 and T3 do not;
    // the member counts are today's tiers.
    check_report(
        &wd,
        "2026-06-30",
        &["tiers"],
        &[
            row("C", "C类会员", 4, "0.6667", "450.00", "0.1304"),
            row("B", "B类会员", 1, "0.1667", "0.00", "0.0000"),
            row("A", "A类会员", 1, "0.1667", "3000.00", "0.8696"),
        ],
    );
}

// ---------------------------------------------------------------- stores and staff (R33)

/// The sales database (see the tests below for what each row is for).
fn sales_db() -> (Workdir, Vec<String>) {
    let wd = menswear_db();
    add_staff(
        &wd,
        "S001,王芳,BJ01\nS002,刘强,BJ01\nS003,陈静,BJ01\nS004,杨洋,SH01\n",
    );
    let person = |name, phone, store, staff, enrolled| P {
        name,
        phone,
        born: "1985-03-10",
        store,
        staff,
        enrolled,
    };
    // Every member is born on 1985-03-10; their sequence numbers differ.
    let nos = enroll_all(
        &wd,
        &[
            person("许一", "13900000201", "BJ01", "S001", "2026-10-01"), // X
            person("何二", "13900000202", "BJ01", "S002", "2026-09-30"), // Y
            person("吕三", "13900000203", "SH01", "S004", "2026-10-31"), // Z
            person("施四", "13900000204", "SH01", "S004", "2026-11-01"), // W
            person("张五", "13900000205", "GZ01", "S001", "2026-10-15"), // G
            person("孔六", "13900000206", "BJ01", "S001", "2026-01-05"), // L1
            person("曹七", "13900000207", "BJ01", "S001", "2026-01-05"), // L2
            person("严八", "13900000208", "SH01", "S002", "2026-05-04"), // L3
            person("华九", "13900000209", "SH01", "S002", "2026-01-05"), // L4
            person("金十", "13900000210", "BJ01", "S003", "2026-01-05"), // V
        ],
    );
    import(
        &wd,
        "sales.csv",
        &[
            // Outside the default 365 days (2025-11-21..2026-11-20), and inside.
            "BJ01,E0,,2025-11-20 10:00,5.00,,,",
            "BJ01,E1,,2025-11-21 10:00,6.00,,,",
            // L2, L1, L4: last purchases 180 days before 10-01 minus one day, 180
            // days before 10-01, 180 days before 10-31 plus one day.
            "BJ01,L2,13900000207,2026-04-03 10:00,20.00,S001,,",
            "BJ01,L1,13900000206,2026-04-04 10:00,10.00,S001,,",
            "SH01,L4,13900000209,2026-05-05 10:00,40.00,S002,,",
            // V lifted to B on 09-15, before the October period.
            "BJ01,V1,13900000210,2026-09-15 10:00,1500.00,S003,,",
            // The October period, in BJ01.
            "BJ01,B0,,2026-09-30 23:59,77.00,S001,,",
            // X (a BJ01 member of S001) lifted C → B by B1, at 07:00 local
            // time on 10-01 (23:00 UTC on 09-30).
            "BJ01,B1,13900000201,2026-10-01 07:00,1600.00,S001,,",
            "BJ01,B2,,2026-10-10 10:00,50.00,S002,,",
            "BJ01,B3,13900000202,2026-10-12 10:00,200.00,S002,,",
            "BJ01,B4,13900000202,2026-10-20 10:00,30.00,S002,return,B3",
            "BJ01,B5,13900000201,2026-10-31 23:30,100.00,S001,,",
            "BJ01,B6,13900000201,2026-11-01 00:10,999.00,S001,,",
            // … and in SH01, where X also buys.
            "SH01,H3,,2026-10-05 10:00,120.00,,,",
            "SH01,H4,,2026-10-06 10:00,100.00,S004,,",
            "SH01,H1,13900000201,2026-10-15 10:00,100.00,S004,,",
            "SH01,H2,13900000203,2026-10-31 10:00,80.00,S004,,",
        ],
    );
    (wd, nos)
}

fn store_row(
    store: &str,
    member: &str,
    all: &str,
    share: &str,
    receipts: i64,
    enrolled: i64,
) -> Value {
    json!({
        "store": store, "member_sales": member, "all_sales": all,
        "member_share": share, "receipts": receipts, "members_enrolled": enrolled,
    })
}

#[test]
fn r33_report_stores_member_sales_as_a_share_of_all_sales() {
    let (wd, _) = sales_db();
    // October (local dates; B1 at 07:00 is 09-30 in UTC, B0 and B6 are
    // outside):
    // BJ01: members B1 1600 + B3 200 − B4 30 + B5 100 = 1870.00; all 1870
    //   + B2 50 = 1920.00; 1870/1920 = 0.973958… → 0.9740; sale receipts B1
    //   B2 B3 B5 = 4; enrolled X (10-01), not Y (09-30) = 1.
    // GZ01: no sales; G enrolled 10-15.
    // SH01: members H1 100 + H2 80 = 180.00; all 180 + H3 120 + H4 100 =
    //   400.00; 0.4500; 4 receipts; Z (10-31), not W (11-01).
    let october = [
        store_row("BJ01", "1870.00", "1920.00", "0.9740", 4, 1),
        store_row("GZ01", "0.00", "0.00", "0.0000", 0, 1),
        store_row("SH01", "180.00", "400.00", "0.4500", 4, 1),
    ];
    let period = ["--from", "2026-10-01", "--to", "2026-10-31"];
    let args = |extra: &[&'static str]| {
        let mut a = vec!["stores"];
        a.extend_from_slice(&period);
        a.extend_from_slice(extra);
        a
    };
    check_report(&wd, T, &args(&[]), &october);
    check_report(&wd, T, &args(&["--store", "SH01"]), &october[2..]);
    csv_matches_json(&wd, T, &args(&[]));
    check_report(&wd, T, &args(&["--store", "XX99"]), &[]);

    // The default period, 2025-11-21..2026-11-20:
    // BJ01: members 1870 + B6 999 + L1 10 + L2 20 + V1 1500 = 4399.00; all
    //   4399 + E1 6 + B0 77 + B2 50 = 4532.00; 0.970653… → 0.9707; sale
    //   receipts E1 L2 L1 V1 B0 B1 B2 B3 B5 B6 = 10; enrolled X Y L1 L2 V = 5.
    // GZ01: G.
    // SH01: members 180 + L4 40 = 220.00; all 220 + 220 = 440.00; 0.5000;
    //   5 receipts; enrolled Z W L3 L4 = 4.
    check_report(
        &wd,
        T,
        &["stores"],
        &[
            store_row("BJ01", "4399.00", "4532.00", "0.9707", 10, 5),
            store_row("GZ01", "0.00", "0.00", "0.0000", 0, 1),
            store_row("SH01", "220.00", "440.00", "0.5000", 5, 4),
        ],
    );
    // --to alone: the 365 days 2025-10-01..2026-09-30. BJ01: members L2 20 +
    // L1 10 + V1 1500 = 1530.00; all 1530 + E0 5 + E1 6 + B0 77 = 1618.00;
    // 0.945611… → 0.9456; 6 receipts; enrolled Y L1 L2 V = 4. SH01: L4 40
    // of 40; 1 receipt; enrolled L3 L4 = 2. GZ01 has neither: no row.
    check_report(
        &wd,
        T,
        &["stores", "--to", "2026-09-30"],
        &[
            store_row("BJ01", "1530.00", "1618.00", "0.9456", 6, 4),
            store_row("SH01", "40.00", "40.00", "1.0000", 1, 2),
        ],
    );
    // --from alone: up to --as-of, 2026-10-01..2026-11-20. BJ01 adds B6 999:
    // 2869.00 of 2919.00 = 0.982870… → 0.9829, 5 receipts; SH01 adds W's
    // enrolment.
    check_report(
        &wd,
        T,
        &["stores", "--from", "2026-10-01"],
        &[
            store_row("BJ01", "2869.00", "2919.00", "0.9829", 5, 1),
            store_row("GZ01", "0.00", "0.00", "0.0000", 0, 1),
            store_row("SH01", "180.00", "400.00", "0.4500", 4, 2),
        ],
    );
    // A period holding only the return: both sales figures go below zero.
    check_report(
        &wd,
        T,
        &["stores", "--from", "2026-10-20", "--to", "2026-10-20"],
        &[store_row("BJ01", "-30.00", "-30.00", "1.0000", 0, 0)],
    );
    assert_eq!(
        csv_header(&wd, &["stores"]),
        "store,member_sales,all_sales,member_share,receipts,members_enrolled"
    );
}

fn staff_row(staff: &str, served: i64, sales: &str, enrolled: i64, ups: i64, lost: i64) -> Value {
    json!({
        "staff": staff, "members_served": served, "member_sales": sales,
        "members_enrolled": enrolled, "tier_ups": ups, "lost_dormant": lost,
    })
}

#[test]
fn r33_report_staff_credits_sales_enrolments_tier_ups_and_losses() {
    let (wd, _) = sales_db();
    // October; lost_dormant counts last activity in 04-04..=05-04.
    // S001: served X (B1, B5) = 1, 1700.00; enrolled X and G = 2; X (their
    //   member) lifted C → B by B1 at 07:00 local on 10-01 = 1 tier-up; L1
    //   (04-04) lost, not L2 (04-03) = 1.
    // S002: served Y (B3 and its return B4; B2 is no member) = 1,
    //   200 − 30 = 170.00; Y enrolled 09-30 = 0; L3 (enrolled 05-04, no
    //   purchase) lost, not L4 (05-05) = 1.
    // S003: V's sale and tier-up are on 09-15, before the period: zeros.
    // S004: served X (H1) and Z (H2) = 2, 180.00; Z enrolled 10-31, W on
    //   11-01 = 1.
    let october = [
        staff_row("S001", 1, "1700.00", 2, 1, 1),
        staff_row("S002", 1, "170.00", 0, 0, 1),
        staff_row("S003", 0, "0.00", 0, 0, 0),
        staff_row("S004", 2, "180.00", 1, 0, 0),
    ];
    let period = ["--from", "2026-10-01", "--to", "2026-10-31"];
    let args = |extra: &[&'static str]| {
        let mut a = vec!["staff"];
        a.extend_from_slice(&period);
        a.extend_from_slice(extra);
        a
    };
    check_report(&wd, T, &args(&[]), &october);
    check_report(&wd, T, &args(&["--staff", "S002"]), &october[1..2]);
    csv_matches_json(&wd, T, &args(&[]));

    // September: V's tier-up on 09-15 is S003's, X's (23:00 UTC on 09-30)
    // is not September's; V1 (S003) and B0 (non-member, S001) are
    // September's sales; Y enrolled 09-30 (S002). lost_dormant counts
    // 03-05..=04-03: L2 (S001).
    check_report(
        &wd,
        T,
        &["staff", "--from", "2026-09-01", "--to", "2026-09-30"],
        &[
            staff_row("S001", 0, "0.00", 0, 0, 1),
            staff_row("S002", 0, "0.00", 1, 0, 0),
            staff_row("S003", 1, "1500.00", 0, 1, 0),
            staff_row("S004", 0, "0.00", 0, 0, 0),
        ],
    );
    assert_eq!(
        csv_header(&wd, &["staff"]),
        "staff,members_served,member_sales,members_enrolled,tier_ups,lost_dormant"
    );
}

#[test]
fn r33_report_stores_and_staff_never_silently_ignore_a_filter() {
    let (wd, _) = sales_db();
    // Neither S999 nor XX99 exists: a filter by them keeps nothing, or the
    // flag is refused as not applying to the report (exit 2).
    for args in [["stores", "--staff", "S999"], ["staff", "--store", "XX99"]] {
        let out = wd
            .raw(&["--as-of", T, "--format", "json", "report"])
            .args(args)
            .output()
            .unwrap();
        match out.status.code() {
            Some(2) => {}
            Some(0) => {
                let rows: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
                assert_eq!(rows, json!([]), "report {args:?} ignored its filter");
            }
            other => panic!("report {args:?}: exit {other:?}\n{}", stderr_of(&out)),
        }
    }
}

// ---------------------------------------------------------------- top

#[test]
fn report_top_ranks_by_spend_or_points_with_ties_broken_and_masked() {
    let wd = menswear_db();
    let person = |name, phone, store, staff| P {
        name,
        phone,
        born: "1988-04-04",
        store,
        staff,
        enrolled: "2026-01-10",
    };
    let people = [
        person("潘一", "13900000301", "BJ01", "S001"), // P
        person("秦二", "13900000302", "BJ01", "S001"), // Q
        person("任三", "13900000303", "SH01", "S004"), // R
        person("沙四", "13900000304", "SH01", "S004"), // S
        person("陶五", "13900000305", "BJ01", "S002"), // T
        person("尤六", "13900000306", "SH01", "S004"), // U
    ];
    let nos = enroll_all(&wd, &people);
    import(
        &wd,
        "top.csv",
        &[
            "BJ01,Q0,13900000302,2026-09-20 10:00,200.00,S001,,",
            "BJ01,P1,13900000301,2026-10-05 10:00,500.00,S001,,",
            "BJ01,Q1,13900000302,2026-10-06 10:00,500.00,S001,,",
            "SH01,R1,13900000303,2026-10-07 10:00,400.00,S004,,",
            "SH01,R2,13900000303,2026-10-08 10:00,100.00,S004,return,R1",
            "SH01,S1,13900000304,2026-10-09 10:00,300.00,S004,,",
        ],
    );
    wd.ok_on(
        T,
        &[
            "adjust",
            "--member",
            "13900000306",
            "--points",
            "1000",
            "--reason",
            "opening balance",
        ],
    );
    // October spend / points (balance): P 500/500, Q 500/700, R 300/300
    // (400 less 100 returned), S 300/300, T 0/0, U 0/1000.
    let row = |rank: i64, i: usize, pii: bool, spend: &str, points: i64| {
        let (name, phone) = shown(&people[i], pii);
        json!({
            "rank": rank, "member_no": nos[i], "name": name, "phone": phone,
            "tier": "C", "spend": spend, "points": points,
        })
    };
    let period = ["--from", "2026-10-01", "--to", "2026-10-31"];
    let args = |extra: &[&'static str]| {
        let mut a = vec!["top"];
        a.extend_from_slice(&period);
        a.extend_from_slice(extra);
        a
    };
    // By spend, ties by points, then member order: Q before P (same spend,
    // more points), R before S (same spend and points).
    let by_spend = |pii| {
        vec![
            row(1, 1, pii, "500.00", 700),
            row(2, 0, pii, "500.00", 500),
            row(3, 2, pii, "300.00", 300),
            row(4, 3, pii, "300.00", 300),
            row(5, 5, pii, "0.00", 1000),
            row(6, 4, pii, "0.00", 0),
        ]
    };
    check_report(&wd, T, &args(&[]), &by_spend(false));
    check_report(
        &wd,
        T,
        &args(&["--by", "spend", "--n", "10"]),
        &by_spend(false),
    );
    check_report(&wd, T, &args(&["--include-pii"]), &by_spend(true));
    csv_matches_json(&wd, T, &args(&[]));
    check_report(&wd, T, &args(&["--n", "3"]), &by_spend(false)[..3]);
    check_report(&wd, T, &args(&["--n", "1"]), &by_spend(false)[..1]);
    // By points, ties by spend, then member order.
    let by_points = [
        row(1, 5, false, "0.00", 1000),
        row(2, 1, false, "500.00", 700),
        row(3, 0, false, "500.00", 500),
        row(4, 2, false, "300.00", 300),
        row(5, 3, false, "300.00", 300),
        row(6, 4, false, "0.00", 0),
    ];
    check_report(&wd, T, &args(&["--by", "points"]), &by_points);
    check_report(
        &wd,
        T,
        &args(&["--by", "points", "--n", "4"]),
        &by_points[..4],
    );
    // Filters rank within the members they keep.
    check_report(
        &wd,
        T,
        &args(&["--store", "SH01"]),
        &[
            row(1, 2, false, "300.00", 300),
            row(2, 3, false, "300.00", 300),
            row(3, 5, false, "0.00", 1000),
        ],
    );
    check_report(
        &wd,
        T,
        &args(&["--staff", "S001", "--by", "points"]),
        &[
            row(1, 1, false, "500.00", 700),
            row(2, 0, false, "500.00", 500),
        ],
    );
    // The default period (365 days to T) also holds Q0: Q 700.
    let all = wd.json_on(T, &["report", "top", "--n", "1"]);
    assert_eq!(all, json!([row(1, 1, false, "700.00", 700)]));
    // --n 0 is a usage error.
    let out = wd
        .raw(&["--as-of", T, "report", "top", "--n", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--n"), "{}", stderr_of(&out));
    assert_eq!(
        csv_header(&wd, &["top"]),
        "rank,member_no,name,phone,tier,spend,points"
    );
}

// ---------------------------------------------------------------- columns

#[test]
fn report_csv_headers_are_the_specs_on_an_empty_database() {
    let wd = menswear_db();
    for (args, header) in [
        (
            &["care"][..],
            "member_no,name,phone,tier,reason,detail,store,staff",
        ),
        (
            &["dormant"][..],
            "member_no,name,phone,tier,last_purchase,days_since,points,store,staff",
        ),
        (
            &["birthdays"][..],
            "member_no,name,phone,tier,birthday,days_until,store,staff",
        ),
        (
            &["tiers"][..],
            "tier,name,members,members_share,spend,spend_share",
        ),
        (
            &["stores"][..],
            "store,member_sales,all_sales,member_share,receipts,members_enrolled",
        ),
        (
            &["staff"][..],
            "staff,members_served,member_sales,members_enrolled,tier_ups,lost_dormant",
        ),
        (&["top"][..], "rank,member_no,name,phone,tier,spend,points"),
    ] {
        assert_eq!(csv_header(&wd, args), header, "report {args:?}");
    }
    // Empty lists are empty JSON arrays; tiers lists the ladder with zeros.
    for r in ["care", "dormant", "birthdays", "stores", "staff", "top"] {
        check_report(&wd, T, &[r], &[]);
    }
    let tiers = wd.json_on(T, &["report", "tiers"]);
    assert_eq!(
        tiers,
        json!([
            {"tier": "C", "name": "C类会员", "members": 0, "members_share": "0.0000", "spend": "0.00", "spend_share": "0.0000"},
            {"tier": "B", "name": "B类会员", "members": 0, "members_share": "0.0000", "spend": "0.00", "spend_share": "0.0000"},
            {"tier": "A", "name": "A类会员", "members": 0, "members_share": "0.0000", "spend": "0.00", "spend_share": "0.0000"},
        ])
    );
}
