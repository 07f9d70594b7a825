//! Tidy: the architecture's invariants, checked over the source text so
//! that breaking one fails the build (rust-analyzer's `tidy.rs` is the
//! model). Each check names the files and lines that break it.
//!
//! - SQL (and `rusqlite`) only in `src/store/`;
//! - `clap` only in `src/cli/`;
//! - the clock (`Utc::now`, `Local::now`, `SystemTime::now`) only in
//!   `src/cli/` (`clippy.toml` bans the same methods by path);
//! - environment variables (`std::env::var`, `var_os`, `vars`) read only
//!   in `src/cli/`: the core is handed what they say;
//! - `rules` pure: no store, no files, no streams, no environment;
//! - `ops`, `rules`, `store` and `program` print nothing and know no
//!   terminal (no `println!`, no standard streams, no progress bars, no
//!   tables);
//! - no source file over 600 lines of non-test code.
//!
//! `Instant::now` is allowed anywhere: it times a job (`elapsed_ms`), it
//! does not tell the date.

use std::path::{Path, PathBuf};

/// Files that still break a rule, each with the reason it is tolerated.
/// Shrink this list; never grow it without a reason a reviewer accepts.
const ALLOWED: &[(&str, Rule, &str)] = &[];

/// Source files over this many lines of non-test code fail.
const MAX_CODE_LINES: usize = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Sql,
    Rusqlite,
    Clap,
    Clock,
    Env,
    Pure,
    Terminal,
    Size,
}

/// Reading an environment variable (`env::var` also prefixes `var_os`,
/// `vars`, `vars_os`).
const ENV_READS: &[&str] = &["env::var"];

/// What `rules` may not name: it computes over plain data it is handed.
const IMPURE: &[&str] = &[
    "crate::store",
    "crate::ops",
    "crate::csvio",
    "crate::cli",
    "std::fs",
    "std::io",
    "std::env",
    "std::net",
    "std::process",
    "File::",
];

/// What the core may not name: printing and terminals belong to `cli`.
const TERMINAL: &[&str] = &[
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "stdout()",
    "stderr()",
    "IsTerminal",
    "indicatif",
    "comfy_table",
];

/// One Rust source file, split into its code (comments dropped, string
/// literals emptied) and its string literals, by line.
struct Source {
    /// Path relative to the repository, with `/`.
    path: String,
    code: Vec<String>,
    strings: Vec<(usize, String)>,
    /// Lines before the first top-level `#[cfg(test)]`.
    code_lines: usize,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 20, "found only {} source files", files.len());
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let rel = f
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            split(rel, &text)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A small Rust lexer: enough to tell code from comments and strings.
fn split(path: String, text: &str) -> Source {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::new();
    let mut strings = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                        code.push('\n');
                    }
                    i += 1;
                }
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…".
        let raw_start = if c == 'r' && matches!(next, Some('"') | Some('#')) {
            Some(i + 1)
        } else if c == 'b' && next == Some('r') {
            Some(i + 2)
        } else {
            None
        };
        let prev_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if let (Some(mut j), false) = (raw_start, prev_ident) {
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                let start_line = line;
                let mut s = String::new();
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    if chars[j] == '\n' {
                        line += 1;
                        code.push('\n');
                    }
                    s.push(chars[j]);
                    j += 1;
                }
                strings.push((start_line, s));
                code.push_str("\"\"");
                i = j;
                continue;
            }
        }
        if c == '"' {
            let start_line = line;
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    s.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    if chars[i] == '\n' {
                        line += 1;
                        code.push('\n');
                    }
                    s.push(chars[i]);
                    i += 1;
                }
            }
            i += 1;
            strings.push((start_line, s));
            code.push_str("\"\"");
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), else a lifetime.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                code.push_str("' '");
                i = j + 1;
                continue;
            }
            if chars.get(i + 2) == Some(&'\'') {
                code.push_str("' '");
                i += 3;
                continue;
            }
        }
        if c == '\n' {
            line += 1;
        }
        code.push(c);
        i += 1;
    }
    let code: Vec<String> = code.lines().map(str::to_string).collect();
    let code_lines = text
        .lines()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or_else(|| text.lines().count());
    Source {
        path,
        code,
        strings,
        code_lines,
    }
}

/// Words that start or make an SQL statement, as the store writes them.
const SQL_WORDS: &[&str] = &[
    "SELECT ",
    "INSERT INTO",
    "INSERT OR ",
    "UPDATE ",
    "DELETE FROM",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE TRIGGER",
    "DROP TABLE",
    "ALTER TABLE",
    "PRAGMA ",
    "BEGIN IMMEDIATE",
    "BEGIN TRANSACTION",
    "SAVEPOINT ",
    "WHERE ",
];

/// Calls that run SQL on a connection.
const SQL_CALLS: &[&str] = &[
    ".execute(",
    ".execute_batch(",
    ".prepare(",
    ".prepare_cached(",
    ".query_row(",
    ".pragma_update(",
    ".pragma_query_value(",
    ".transaction_with_behavior(",
];

fn is_sql(s: &str) -> bool {
    SQL_WORDS.iter().any(|w| {
        s.match_indices(w).any(|(at, _)| {
            // The word starts the string or follows a space, a newline or a paren.
            at == 0 || s[..at].ends_with([' ', '\n', '(', '\t'])
        })
    })
}

fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn allowed(path: &str, rule: Rule) -> bool {
    ALLOWED
        .iter()
        .any(|(p, r, _)| *r == rule && (path == *p || path.starts_with(&format!("{p}/"))))
}

/// Every breach of `rule` outside `home`, as `path:line: what`.
fn breaches(rule: Rule) -> Vec<String> {
    let mut out = Vec::new();
    for src in sources() {
        let home = match rule {
            Rule::Sql | Rule::Rusqlite => "src/store/",
            Rule::Clap | Rule::Clock | Rule::Env => "src/cli/",
            Rule::Pure | Rule::Terminal | Rule::Size => "",
        };
        if (!home.is_empty() && src.path.starts_with(home)) || allowed(&src.path, rule) {
            continue;
        }
        let core = ["src/ops/", "src/rules/", "src/store/", "src/program/"];
        if (rule == Rule::Pure && !src.path.starts_with("src/rules/"))
            || (rule == Rule::Terminal && !core.iter().any(|c| src.path.starts_with(c)))
        {
            continue;
        }
        let code = |check: &dyn Fn(&str) -> Option<String>, out: &mut Vec<String>| {
            for (n, l) in src.code.iter().enumerate() {
                if let Some(what) = check(l) {
                    out.push(format!("{}:{}: {what}", src.path, n + 1));
                }
            }
        };
        match rule {
            Rule::Sql => {
                for (n, s) in &src.strings {
                    if is_sql(s) {
                        let first = s.lines().next().unwrap_or_default().trim();
                        out.push(format!("{}:{n}: SQL {first:?}", src.path));
                    }
                }
                code(
                    &|l| {
                        SQL_CALLS
                            .iter()
                            .find(|c| l.contains(*c))
                            .map(|c| format!("runs SQL ({c}…)"))
                    },
                    &mut out,
                );
            }
            Rule::Rusqlite => code(
                &|l| has_word(l, "rusqlite").then(|| "names rusqlite".to_string()),
                &mut out,
            ),
            Rule::Clap => code(
                &|l| {
                    (has_word(l, "clap") || has_word(l, "clap_complete"))
                        .then(|| "names clap".to_string())
                },
                &mut out,
            ),
            Rule::Clock => code(
                &|l| {
                    ["Utc::now", "Local::now", "SystemTime::now"]
                        .iter()
                        .find(|w| l.contains(*w))
                        .map(|w| format!("reads the clock ({w})"))
                },
                &mut out,
            ),
            Rule::Env => code(
                &|l| {
                    ENV_READS
                        .iter()
                        .find(|w| l.contains(*w))
                        .map(|w| format!("reads the environment ({w}…)"))
                },
                &mut out,
            ),
            Rule::Pure => code(
                &|l| {
                    IMPURE
                        .iter()
                        .find(|w| l.contains(*w))
                        .map(|w| format!("rules names {w}"))
                },
                &mut out,
            ),
            Rule::Terminal => code(
                &|l| {
                    TERMINAL
                        .iter()
                        .find(|w| l.contains(*w))
                        .map(|w| format!("prints or knows a terminal ({w})"))
                },
                &mut out,
            ),
            Rule::Size => {
                if src.code_lines > MAX_CODE_LINES {
                    out.push(format!(
                        "{}: {} lines of non-test code (at most {MAX_CODE_LINES})",
                        src.path, src.code_lines
                    ));
                }
            }
        }
    }
    out
}

fn check(rule: Rule, what: &str) {
    let found = breaches(rule);
    assert!(
        found.is_empty(),
        "{what}:\n  {}\n(ARCHITECTURE.md says why; tests/tests/test_tidy.rs lists the rare exceptions)",
        found.join("\n  ")
    );
}

#[test]
fn tidy_sql_only_in_store() {
    check(Rule::Sql, "SQL outside src/store");
}

#[test]
fn tidy_rusqlite_only_in_store() {
    check(Rule::Rusqlite, "rusqlite named outside src/store");
}

#[test]
fn tidy_clap_only_in_cli() {
    check(Rule::Clap, "clap outside src/cli");
}

#[test]
fn tidy_clock_only_in_cli() {
    check(Rule::Clock, "the clock read outside src/cli");
}

#[test]
fn tidy_environment_read_only_in_cli() {
    check(Rule::Env, "an environment variable read outside src/cli");
}

#[test]
fn tidy_rules_are_pure() {
    check(Rule::Pure, "I/O or state named in src/rules");
}

#[test]
fn tidy_the_core_prints_nothing() {
    check(Rule::Terminal, "printing or terminals outside src/cli");
}

#[test]
fn tidy_no_file_over_600_lines_of_code() {
    check(Rule::Size, "source files too long");
}

#[test]
fn tidy_allowlist_names_files_that_exist_and_still_break_their_rule() {
    let all = sources();
    for (path, rule, why) in ALLOWED {
        assert!(!why.is_empty(), "{path}: say why it is allowed");
        assert!(
            all.iter()
                .any(|s| s.path == *path || s.path.starts_with(&format!("{path}/"))),
            "{path} is allowed but does not exist"
        );
        // Without its entry the file would fail: an entry that no longer
        // excuses anything is stale and must go.
        let others: Vec<Source> = all
            .iter()
            .filter(|s| s.path == *path || s.path.starts_with(&format!("{path}/")))
            .map(|s| {
                split(
                    s.path.clone(),
                    &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&s.path))
                        .unwrap(),
                )
            })
            .collect();
        let breaks = others.iter().any(|s| match rule {
            Rule::Sql => {
                s.strings.iter().any(|(_, t)| is_sql(t))
                    || s.code
                        .iter()
                        .any(|l| SQL_CALLS.iter().any(|c| l.contains(c)))
            }
            Rule::Rusqlite => s.code.iter().any(|l| has_word(l, "rusqlite")),
            Rule::Clap => s.code.iter().any(|l| has_word(l, "clap")),
            Rule::Clock => s.code.iter().any(|l| {
                ["Utc::now", "Local::now", "SystemTime::now"]
                    .iter()
                    .any(|w| l.contains(w))
            }),
            Rule::Env => s
                .code
                .iter()
                .any(|l| ENV_READS.iter().any(|w| l.contains(w))),
            Rule::Pure => s.code.iter().any(|l| IMPURE.iter().any(|w| l.contains(w))),
            Rule::Terminal => s
                .code
                .iter()
                .any(|l| TERMINAL.iter().any(|w| l.contains(w))),
            Rule::Size => s.code_lines > MAX_CODE_LINES,
        });
        assert!(
            breaks,
            "{path} is allowed to break {rule:?} but no longer does: remove its entry"
        );
    }
}

/// The checks themselves catch what they are meant to (a tidy that cannot
/// fail proves nothing).
#[test]
fn tidy_checks_catch_planted_breaches() {
    let planted = split(
        "src/ops/planted.rs".into(),
        concat!(
            "use rusqlite::Connection; // a comment naming clap is fine\n",
            "fn f(c: &Connection) { c.execute(\"UPDATE members SET x = 1\", []); }\n",
            "fn g() -> String { \"an invalid UPDATE-free message\".into() }\n",
            "fn h() { let _ = chrono::Utc::now(); let _: clap::Command; }\n",
            "fn i<'a>(x: &'a str) -> char { 'x' }\n",
            "/* SELECT 1 */ const S: &str = r#\"SELECT id FROM members\"#;\n",
        ),
    );
    assert!(
        planted.strings.iter().filter(|(_, s)| is_sql(s)).count() == 2,
        "{:?}",
        planted.strings
    );
    assert!(!is_sql("an invalid UPDATE-free message"));
    assert!(!is_sql("rows per commit, SELECTED"));
    assert!(planted.code.iter().any(|l| has_word(l, "rusqlite")));
    assert_eq!(
        planted.code.iter().filter(|l| has_word(l, "clap")).count(),
        1
    );
    assert!(planted.code.iter().any(|l| l.contains("Utc::now")));
    assert!(planted.code.iter().any(|l| l.contains(".execute(")));
    assert!(!planted.code.iter().any(|l| l.contains("SELECT")));
    let printing = split(
        "src/ops/planted.rs".into(),
        "fn f() { println!(\"x\"); let _ = std::io::stdout(); }\n",
    );
    let env = split(
        "src/ops/planted.rs".into(),
        concat!(
            "// std::env::var in a comment is fine\n",
            "fn f() { let _ = std::env::var_os(\"X\"); }\n",
            "fn g() { for _ in std::env::vars() {} let _ = env::var(\"Y\"); }\n",
        ),
    );
    assert_eq!(
        env.code
            .iter()
            .filter(|l| ENV_READS.iter().any(|w| l.contains(w)))
            .count(),
        2
    );
    assert!(printing
        .code
        .iter()
        .any(|l| TERMINAL.iter().any(|w| l.contains(w))));
    assert!(printing
        .code
        .iter()
        .any(|l| IMPURE.iter().any(|w| l.contains(w))));
}
