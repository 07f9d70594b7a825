//! Output paths (SPEC "Safety at the edges": output paths): a file the
//! tool writes must not be the database, one of SQLite's files beside it
//! (`-wal`, `-shm`, `-journal`), or the file being read. Checked before
//! anything is written, on resolved paths: `./x` and `x`, symbolic links
//! (even dangling ones) and hard links to the same file all count as the same.

use crate::error::Usage;
use anyhow::Result;
use std::path::{Component, Path, PathBuf};

/// Links followed by hand at most (as the kernel does).
const LINKS_MAX: usize = 40;

/// `p` made absolute against the current directory, with `.` dropped.
fn absolute(p: &Path) -> PathBuf {
    let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    p.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Where writing to `p` lands: symbolic links followed, `..` resolved; a
/// file that does not exist yet is its resolved directory joined with its
/// name.
pub fn resolve(p: &Path) -> PathBuf {
    let mut p = absolute(p);
    for _ in 0..LINKS_MAX {
        if let Ok(c) = p.canonicalize() {
            return c;
        }
        // A dangling link: writing creates its target.
        match std::fs::read_link(&p) {
            Ok(target) => {
                p = match p.parent() {
                    Some(dir) => absolute(&dir.join(target)),
                    None => absolute(&target),
                };
            }
            Err(_) => break,
        }
    }
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) if dir != p => resolve(dir).join(name),
        _ => p,
    }
}

/// Whether two paths name one file: the same resolved path, or (both
/// existing) the same device and inode, as hard links do.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if resolve(a) == resolve(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// SQLite's files beside a database, and what each is.
const COMPANIONS: [(&str, &str); 4] = [
    ("", "the database"),
    ("-wal", "the database's write-ahead log"),
    ("-shm", "the database's shared-memory file"),
    ("-journal", "the database's rollback journal"),
];

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Refuses (exit 2, naming both paths, before anything is written) an
/// output `out`, given with `flag`, that is the database `db`, one of its
/// companion files, or one of the `inputs` (`-` for stdin is skipped, as is
/// an `out` of `-`, stdout).
pub fn check_output(flag: &str, out: &Path, db: &Path, inputs: &[&str]) -> Result<()> {
    if out.as_os_str() == "-" {
        return Ok(());
    }
    // The database as named and as resolved (a link to it keeps its
    // companions next to the target).
    let db_forms = [db.to_path_buf(), resolve(db)];
    for (suffix, what) in COMPANIONS {
        for form in &db_forms {
            let companion = with_suffix(form, suffix);
            if same_file(out, &companion) {
                let named = with_suffix(db, suffix);
                let msg = if suffix.is_empty() {
                    format!(
                        "{flag} {} is the database {}: writing there would destroy it; name another file (nothing was written)",
                        out.display(),
                        db.display()
                    )
                } else {
                    format!(
                        "{flag} {} is {}, {what} of {}: writing there would corrupt the database; name another file (nothing was written)",
                        out.display(),
                        named.display(),
                        db.display()
                    )
                };
                return Err(Usage(msg).into());
            }
        }
    }
    if out.is_dir() {
        return Err(Usage(format!(
            "{flag} {} is a directory: name a file (nothing was written)",
            out.display()
        ))
        .into());
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Usage(format!(
            "{flag} {}: the directory {} does not exist (nothing was written)",
            out.display(),
            dir.display()
        ))
        .into());
    }
    for input in inputs.iter().filter(|i| **i != "-") {
        if same_file(out, Path::new(input)) {
            return Err(Usage(format!(
                "{flag} {} is the input file {input}: writing there would overwrite what is being read; name another file (nothing was written)",
                out.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// The standard streams (`stdout`, `stderr`) that are, by redirection
/// (`>> vipctl.db`), the database or one of its companion files, each with
/// the error to give (exit 2): the tool would write into the database.
pub fn check_streams(db: &Path) -> Vec<(&'static str, anyhow::Error)> {
    let mut found = Vec::new();
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let streams = [
            ("stdout", std::io::stdout().as_fd().try_clone_to_owned()),
            ("stderr", std::io::stderr().as_fd().try_clone_to_owned()),
        ];
        let db_forms = [db.to_path_buf(), resolve(db)];
        for (name, fd) in streams {
            let Ok(meta) = fd.and_then(|fd| std::fs::File::from(fd).metadata()) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            for (suffix, what) in COMPANIONS {
                for form in &db_forms {
                    let companion = with_suffix(form, suffix);
                    let Ok(m) = std::fs::metadata(&companion) else {
                        continue;
                    };
                    if m.dev() == meta.dev() && m.ino() == meta.ino() {
                        let msg = format!(
                            "{name} is redirected to {} ({what} of {}): writing there would corrupt the database; redirect it to another file (nothing was written)",
                            with_suffix(db, suffix).display(),
                            db.display()
                        );
                        if !found.iter().any(|(n, _)| *n == name) {
                            found.push((name, Usage(msg).into()));
                        }
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    found
}

/// The device and inode of a standard stream (0 stdin, 1 stdout) when it
/// is a regular file (a redirection), else None.
#[cfg(unix)]
fn stream_file(fd: i32) -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let owned = match fd {
        0 => std::io::stdin().as_fd().try_clone_to_owned(),
        _ => std::io::stdout().as_fd().try_clone_to_owned(),
    };
    let meta = std::fs::File::from(owned.ok()?).metadata().ok()?;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

#[cfg(unix)]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(p).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Refuses (exit 2, naming both, before anything is written) a batch whose
/// input and outputs meet through a redirection: standard output redirected
/// into the input file (`--file r.csv --rejects - >> r.csv`), or standard
/// input (`--file -`) read from the file an output writes
/// (`--file - --rejects r.csv < r.csv`), or from the file standard output
/// goes to. `output` is given with `flag` (`-` is standard output).
pub fn check_input_streams(input: &str, flag: &str, output: Option<&Path>) -> Result<()> {
    #[cfg(unix)]
    {
        let stdout = stream_file(1);
        if input != "-" {
            if stdout.is_some() && stdout == file_id(Path::new(input)) {
                return Err(Usage(format!(
                    "standard output is redirected to the input file {input}: writing there would overwrite what is being read; redirect it to another file (nothing was written)"
                ))
                .into());
            }
            return Ok(());
        }
        let Some(stdin) = stream_file(0) else {
            return Ok(());
        };
        if let Some(out) = output.filter(|o| o.as_os_str() != "-") {
            if file_id(out) == Some(stdin) {
                return Err(Usage(format!(
                    "{flag} {} is the file standard input reads (the input, --file -): writing there would overwrite what is being read; name another file (nothing was written)",
                    out.display()
                ))
                .into());
            }
        }
        if stdout == Some(stdin) {
            return Err(Usage(
                "standard output is redirected to the file standard input reads (the input, --file -): writing there would overwrite what is being read; redirect it to another file (nothing was written)".to_string(),
            )
            .into());
        }
    }
    #[cfg(not(unix))]
    let _ = (input, flag, output);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_slash_and_parent_steps_resolve_to_the_same_file() {
        let dir = tempfile_dir();
        let a = dir.join("x.db");
        let b = dir.join("sub/../x.db");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        assert_eq!(resolve(&a), resolve(&b));
        assert_eq!(resolve(&a), resolve(&dir.join("./x.db")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_dangling_link_resolves_to_its_target() {
        let dir = tempfile_dir();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("target.db-wal"), dir.join("link")).unwrap();
            assert_eq!(
                resolve(&dir.join("link")),
                resolve(&dir).join("target.db-wal")
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "vipctl-paths-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
