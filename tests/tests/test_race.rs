//! Two processes on one database (SPEC "Crash-safe", R16, R21): a redemption
//! racing the nightly import on the same member either succeeds or is refused,
//! and the balance is never wrong.

use crate::workdir::Workdir;
use std::fmt::Write as _;
use std::process::{Command, Stdio};

#[test]
fn r16_r21_redemptions_racing_an_import_never_corrupt_the_balance() {
    let wd = Workdir::setup();
    wd.ok(&[
        "adjust",
        "--member",
        "C000005",
        "--points",
        "100000",
        "--reason",
        "opening balance",
    ]);
    // 30,000 one-line receipts, every fifth for C000005; 1.00 to 9.99 yuan
    // on Mondays (2026-11-16: no member day, no bonus at these amounts).
    let mut csv = String::from("store,receipt,member,time,amount\n");
    for i in 0..30_000u32 {
        let member = if i % 5 == 0 {
            "C000005".to_string()
        } else {
            format!("C{:06}", 1 + i % 60)
        };
        let _ = writeln!(
            csv,
            "BJ01,R{i:06},{member},2026-11-16 10:00,{}.{:02}",
            1 + i % 9,
            i % 100
        );
    }
    let file = wd.write("big.csv", &csv);
    let mut import = Command::new(env!("CARGO_BIN_EXE_vipctl"))
        .env("VIPCTL_OPERATOR", "night")
        .args(["--db", &wd.db_text(), "--as-of", "2026-11-20", "-q"])
        .args([
            "purchase",
            "--file",
            &file.display().to_string(),
            "--rows-per-commit",
            "2000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut redeemed, mut refused, mut during_import) = (0i64, 0, 0);
    for _ in 0..40 {
        let running = import.try_wait().unwrap().is_none();
        let out = wd
            // A loaded machine can keep the importer's chunks coming back to
            // back for longer than the default 10 s wait: this test is about
            // the balance, not the wait, so the redemption waits as long as
            // the import may take.
            .cmd(&[
                "--wait", "600", "redeem", "--member", "C000005", "--points", "10",
            ])
            .output()
            .unwrap();
        match out.status.code() {
            Some(0) => {
                redeemed += 10;
                if running {
                    during_import += 1;
                }
            }
            Some(4) => refused += 1,
            other => panic!(
                "redeem while importing: exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    let status = import.wait_with_output().unwrap();
    assert!(
        status.status.success(),
        "import: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        during_import > 0,
        "no redemption overlapped the import; make the file bigger"
    );
    assert_eq!(refused, 0, "the balance always covered 10 points");

    // The balance is the opening balance, plus what the receipts earned,
    // minus what was redeemed; and it is the sum of the ledger.
    let conn = wd.conn();
    let earned: i64 = conn
        .query_row(
            "SELECT SUM(r.points_earned) FROM receipts r JOIN cards c ON c.member_id = r.member_id
             WHERE c.card_no = 'C000005'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(earned > 0);
    assert_eq!(wd.points("C000005"), 100_000 + earned - redeemed);
    let ledger: i64 = conn
        .query_row(
            "SELECT SUM(e.points) FROM ledger e JOIN cards c ON c.member_id = e.member_id
             WHERE c.card_no = 'C000005'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ledger, wd.points("C000005"));
    assert_eq!(wd.count("receipts"), 30_000);
    wd.ok(&["audit"]);
}
