//! Encrypted exports (R35, "对导出会员资料必须设置密码保护"; SPEC
//! "Spreadsheets, manuals, the journal"): `--password-file FILE` or
//! `$VIPCTL_EXPORT_PASSWORD` writes an AES-256 ZIP. Each archive is read
//! back with the zip crate and the password, and compared with the plain
//! export; without the password, or with a wrong one, it does not open. The
//! password is never printed, journalled or stored.

use crate::workdir::{expect_exit, stderr_of, stdout_of, Workdir};
use std::io::Read;
use std::path::Path;

const PASSWORD: &str = "Tr0ub4dor&3 会员";

/// The test database with a few receipts, so every export has rows.
fn setup() -> Workdir {
    let wd = Workdir::setup();
    let f = wd.write(
        "day.csv",
        "store,receipt,member,time,amount\nBJ01,S1,C000003,2026-11-19 10:00,250.00\nBJ01,S2,C000004,2026-11-19 23:30,120.50\n",
    );
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    wd
}

/// The bytes of the archive's only file, opened with `password`.
fn unzip(path: &Path, entry: &str, password: &str) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| e.to_string())?;
    let mut file = z
        .by_name_decrypt(entry, password.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The names of the files in an archive, read without any password.
fn entries(path: &Path) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap();
    let z = zip::ZipArchive::new(f).expect("a ZIP archive");
    z.file_names().map(str::to_string).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn r35_encrypted_export_opens_with_the_password_and_equals_the_plain_export() {
    let wd = setup();
    let pw = wd.write("pw.txt", &format!("{PASSWORD}\n"));
    let plain = wd.path("plain.csv");
    wd.ok(&["export", "members", "--include-pii", "-o", s(&plain)]);
    let zip = wd.path("members.zip");
    let out = wd.run(&[
        "export",
        "members",
        "--include-pii",
        "--password-file",
        s(&pw),
        "-o",
        s(&zip),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(entries(&zip), ["members.csv"]);
    let inside = unzip(&zip, "members.csv", PASSWORD).expect("opens with the password");
    assert_eq!(inside, std::fs::read(&plain).unwrap());
    assert!(inside.len() > 1000, "{} bytes", inside.len());
    // Encrypted with AES-256 (WinZip AE-x), not the weak ZipCrypto.
    {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        assert!(z.by_index_raw(0).unwrap().encrypted());
        let aes = z.get_aes_verification_key_and_salt(0).unwrap();
        assert!(
            matches!(aes, Some(ref info) if info.aes_mode == zip::AesMode::Aes256),
            "not AES-256: {aes:?}"
        );
    }
    // The full data cannot be read from the archive's bytes.
    let raw = std::fs::read(&zip).unwrap();
    let phone = {
        let text = String::from_utf8(std::fs::read(&plain).unwrap()).unwrap();
        let line = text.lines().nth(1).unwrap().to_string();
        line.split(',').nth(3).unwrap().to_string()
    };
    assert!(phone.len() == 11, "{phone}");
    assert!(!raw.windows(phone.len()).any(|w| w == phone.as_bytes()));
    // Without the password, or with a wrong one, it does not open.
    {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
        let mut f = z.by_index(0);
        let mut sink = Vec::new();
        let read = f.as_mut().map(|f| f.read_to_end(&mut sink));
        assert!(
            !matches!(read, Ok(Ok(_))),
            "an encrypted file opened without its password"
        );
    }
    assert!(unzip(&zip, "members.csv", "wrong").is_err());
    // The password less its line break is the password; with it, not.
    assert!(unzip(&zip, "members.csv", &format!("{PASSWORD}\n")).is_err());
    // The summary says it is encrypted.
    let j = wd.json(&[
        "export",
        "members",
        "--include-pii",
        "--password-file",
        s(&pw),
        "-o",
        s(&zip),
    ]);
    assert_eq!(j["encrypted"], true, "{j}");
    assert_eq!(j["pii"], true, "{j}");
}

#[test]
fn r35_the_password_is_never_printed_journalled_or_stored() {
    let wd = setup();
    let pw = wd.write("pw.txt", PASSWORD);
    let mut seen = String::new();
    for (what, out) in [
        ("tiers", "t.zip"),
        ("ledger", "l.csv.zip"),
        ("receipts", "r.xlsx.zip"),
    ] {
        let o = wd.run(&[
            "export",
            what,
            "--include-pii",
            "--password-file",
            s(&pw),
            "-o",
            s(&wd.path(out)),
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        seen.push_str(&o.stdout);
        seen.push_str(&o.stderr);
    }
    // Refusals do not echo it either.
    let o = wd.run(&[
        "export",
        "members",
        "--include-pii",
        "--password-file",
        s(&pw),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    seen.push_str(&o.stdout);
    seen.push_str(&o.stderr);
    let journal = wd.ok(&["journal"]);
    let journal_json = wd.ok(&["--format", "json", "journal"]);
    assert!(journal.contains("encrypted"), "{journal}");
    seen.push_str(&journal);
    seen.push_str(&journal_json);
    for needle in [PASSWORD, "Tr0ub4dor"] {
        assert!(!seen.contains(needle), "the password was shown:\n{seen}");
    }
    // Nor in the database's files.
    for entry in std::fs::read_dir(wd.dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("vipctl.db") {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(9).any(|w| w == b"Tr0ub4dor"),
                "the password is in {name}"
            );
        }
    }
    let conn = wd.conn();
    let details: Vec<String> = conn
        .prepare("SELECT detail FROM journal WHERE command = 'export'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(
        details.iter().all(|d| d.contains("encrypted")),
        "{details:?}"
    );
}

#[test]
fn r35_the_environment_password_encrypts_full_exports_only() {
    let wd = setup();
    let zip = wd.path("full.zip");
    let out = wd
        .cmd(&["export", "tiers", "--include-pii", "-o", s(&zip)])
        .env("VIPCTL_EXPORT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let inside = unzip(&zip, "full.csv", PASSWORD).expect("opens with the password");
    assert!(String::from_utf8(inside)
        .unwrap()
        .starts_with("member_no,card,name,phone,tier"));
    // A masked export is not a full export: plain CSV, even to stdout.
    let out = wd
        .cmd(&["export", "tiers"])
        .env("VIPCTL_EXPORT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).starts_with("member_no,"));
    // A full export to stdout with the variable set is refused: R35 asks
    // for protection, and stdout cannot hold an archive.
    let out = wd
        .cmd(&["export", "members", "--include-pii"])
        .env("VIPCTL_EXPORT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("VIPCTL_EXPORT_PASSWORD"));
    assert!(stdout_of(&out).is_empty());
    // Set but empty: refused, nothing written.
    let empty = wd.path("empty.zip");
    let out = wd
        .cmd(&["export", "members", "--include-pii", "-o", s(&empty)])
        .env("VIPCTL_EXPORT_PASSWORD", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("empty"));
    assert!(!empty.exists());
    // --password-file wins over the variable.
    let pw = wd.write("pw.txt", "from the file");
    let out = wd
        .cmd(&[
            "export",
            "members",
            "--include-pii",
            "--password-file",
            s(&pw),
            "-o",
            s(&zip),
        ])
        .env("VIPCTL_EXPORT_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(unzip(&zip, "full.csv", "from the file").is_ok());
    assert!(unzip(&zip, "full.csv", PASSWORD).is_err());
}

#[test]
fn r35_hostile_password_files_are_refused_with_exit_2_and_nothing_written() {
    let wd = setup();
    let zip = wd.path("out.zip");
    let full = |pw: &str| -> Vec<String> {
        [
            "export",
            "members",
            "--include-pii",
            "--password-file",
            pw,
            "-o",
            s(&zip),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let run = |args: &[String], needles: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        expect_exit(&wd, &args, 2, needles);
        assert!(!zip.exists(), "{args:?} wrote {}", zip.display());
    };
    // An empty file, or one holding only a line break.
    let empty = wd.write("empty.txt", "");
    run(&full(s(&empty)), &["empty.txt", "empty"]);
    let newline = wd.write("newline.txt", "\n");
    run(&full(s(&newline)), &["newline.txt", "empty"]);
    // A missing file, named.
    let missing = wd.path("no-such-password.txt");
    run(&full(s(&missing)), &["no-such-password.txt"]);
    // A directory.
    run(&full(s(wd.dir())), &["--password-file"]);
    // Not UTF-8.
    let latin = wd.dir().join("latin1.txt");
    std::fs::write(&latin, b"caf\xe9\n").unwrap();
    run(&full(s(&latin)), &["latin1.txt", "UTF-8"]);
    // To stdout: refused.
    let pw = wd.write("pw.txt", "secret\n");
    let out = wd
        .cmd(&[
            "export",
            "members",
            "--include-pii",
            "--password-file",
            s(&pw),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("-o FILE.zip"),
        "{}",
        stderr_of(&out)
    );
    assert!(stdout_of(&out).is_empty());
    expect_exit(
        &wd,
        &[
            "export",
            "members",
            "--include-pii",
            "--password-file",
            s(&pw),
            "-o",
            "-",
        ],
        2,
        &["ZIP"],
    );
    // The output is the password file itself: refused before it is overwritten.
    expect_exit(
        &wd,
        &[
            "export",
            "members",
            "--include-pii",
            "--password-file",
            s(&pw),
            "-o",
            s(&pw),
        ],
        2,
        &["pw.txt"],
    );
    assert_eq!(std::fs::read_to_string(&pw).unwrap(), "secret\n");
    // --excel into a workbook: refused as for a plain workbook.
    expect_exit(
        &wd,
        &[
            "export",
            "members",
            "--excel",
            "--password-file",
            s(&pw),
            "-o",
            s(&wd.path("m.xlsx.zip")),
        ],
        2,
        &["--excel"],
    );
}

#[test]
fn r35_one_trailing_line_break_is_dropped_and_nothing_else() {
    let wd = setup();
    let zip = wd.path("m.zip");
    for (text, password) in [
        ("secret\n", "secret"),
        ("secret\r\n", "secret"),
        ("secret", "secret"),
        (" secret \n", " secret "),
        ("secret\n\n", "secret\n"),
    ] {
        let pw = wd.write("pw.txt", text);
        wd.ok(&[
            "export",
            "members",
            "--include-pii",
            "--password-file",
            s(&pw),
            "-o",
            s(&zip),
        ]);
        assert!(unzip(&zip, "m.csv", password).is_ok(), "{text:?}");
        if password != text {
            assert!(unzip(&zip, "m.csv", text).is_err(), "{text:?}");
        }
    }
    // The password may come on stdin (`--password-file -`).
    let out = wd
        .cmd(&[
            "export",
            "members",
            "--include-pii",
            "--password-file",
            "-",
            "-o",
            s(&zip),
        ])
        .write_stdin("from stdin\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(unzip(&zip, "m.csv", "from stdin").is_ok());
}

#[test]
fn r35_password_file_without_include_pii_encrypts_the_masked_export() {
    let wd = setup();
    let pw = wd.write("pw.txt", "secret\n");
    let plain = wd.path("masked.csv");
    wd.ok(&["export", "tiers", "-o", s(&plain)]);
    let zip = wd.path("masked.csv.zip");
    let j = wd.json(&["export", "tiers", "--password-file", s(&pw), "-o", s(&zip)]);
    assert_eq!(j["encrypted"], true, "{j}");
    assert_eq!(j["pii"], false, "{j}");
    let inside = unzip(&zip, "masked.csv", "secret").unwrap();
    assert_eq!(inside, std::fs::read(&plain).unwrap());
    // --excel applies inside the archive: a BOM first.
    wd.ok(&[
        "export",
        "tiers",
        "--excel",
        "--password-file",
        s(&pw),
        "-o",
        s(&zip),
    ]);
    let inside = unzip(&zip, "masked.csv", "secret").unwrap();
    assert_eq!(&inside[..3], b"\xEF\xBB\xBF");
    // An output not named .zip still holds the archive, with a warning.
    let odd = wd.path("odd.csv");
    let o = wd.run(&["export", "tiers", "--password-file", s(&pw), "-o", s(&odd)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains(".zip"), "{}", o.stderr);
    assert_eq!(
        unzip(&odd, "odd.csv", "secret").unwrap(),
        std::fs::read(&plain).unwrap()
    );
}

#[test]
fn r35_a_workbook_can_be_encrypted_and_no_plain_copy_is_left() {
    use calamine::{Data, Reader, Xlsx};
    let wd = setup();
    let pw = wd.write("pw.txt", "secret\n");
    let zip = wd.path("members.xlsx.zip");
    wd.ok(&[
        "export",
        "members",
        "--include-pii",
        "--password-file",
        s(&pw),
        "-o",
        s(&zip),
    ]);
    assert_eq!(entries(&zip), ["members.xlsx"]);
    let bytes = unzip(&zip, "members.xlsx", "secret").unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let range = wb.worksheet_range("members").unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    let phone = header.iter().position(|h| h == "phone").unwrap();
    let first = rows.next().unwrap();
    assert!(matches!(&first[phone], Data::String(p) if p.len() == 11 && !p.contains('*')));
    assert_eq!(range.rows().count() as i64, wd.count("members") + 1);
    // No plain workbook is left beside the archive.
    let names: Vec<String> = std::fs::read_dir(wd.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("xlsx") || n.starts_with('.'))
        .collect();
    assert_eq!(names, ["members.xlsx.zip"], "{names:?}");
}

/// A full export without a password warns at a terminal (R35), and only
/// there: a script's stderr stays as it was. The terminal is `script`'s
/// pseudo-terminal (skipped where `script` is absent).
#[test]
fn r35_an_unencrypted_full_export_warns_at_a_terminal_only() {
    let wd = setup();
    let plain = wd.path("full.csv");
    let args = ["export", "members", "--include-pii", "-o", s(&plain)];
    let o = wd.run(&args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("not encrypted"), "{}", o.stderr);
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("script(1) not installed: the terminal half is skipped");
        return;
    }
    let line = format!(
        "{} --db {} --as-of {} --at '{}' {}",
        env!("CARGO_BIN_EXE_vipctl"),
        wd.db_text(),
        crate::workdir::AS_OF,
        crate::workdir::AT,
        args.join(" ")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("VIPCTL_OPERATOR", "tester")
        .current_dir(wd.dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("not encrypted"), "{text}");
    assert!(text.contains("--password-file"), "{text}");
    // With a password, no such warning.
    let pw = wd.write("pw.txt", "secret\n");
    let line = format!("{line} --password-file {}", s(&pw)).replace("full.csv", "full.zip");
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("VIPCTL_OPERATOR", "tester")
        .current_dir(wd.dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("not encrypted"), "{text}");
}

/// 7-Zip, when installed, opens the archive with the password and refuses a
/// wrong one (the archivers users have; skipped where 7-Zip is absent).
#[test]
fn r35_seven_zip_opens_the_archive_with_the_password() {
    let Some(seven) = ["7zz", "7z", "7za"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("i")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("7-Zip not installed: skipped");
        return;
    };
    let wd = setup();
    let pw = wd.write("pw.txt", "secret\n");
    let plain = wd.path("plain.csv");
    wd.ok(&["export", "ledger", "--include-pii", "-o", s(&plain)]);
    let zip = wd.path("ledger.zip");
    wd.ok(&[
        "export",
        "ledger",
        "--include-pii",
        "--password-file",
        s(&pw),
        "-o",
        s(&zip),
    ]);
    let out = std::process::Command::new(seven)
        .args(["x", "-so", "-psecret"])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, std::fs::read(&plain).unwrap());
    let out = std::process::Command::new(seven)
        .args(["x", "-so", "-pwrong"])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let list = std::process::Command::new(seven)
        .args(["l", "-slt", "-psecret"])
        .arg(&zip)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("AES-256"), "{list}");
}
