//! `vipctl program …`: show, set or check the points program.

use super::output::{self, Format, Records};
use super::session::{open, store};
use super::Cli;
use crate::error::ExitCode;
use crate::store::Access;
use crate::{ops, program};
use anyhow::Result;
use clap::Subcommand;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl program check fixtures/programs/mall.toml
  vipctl program set fixtures/programs/mall.toml
  vipctl program show --explain";

#[derive(Debug, Subcommand)]
pub enum ProgramCmd {
    /// Print the program in force (its TOML, or in plain words with --explain).
    #[command(after_help = "Examples:
  vipctl program show > program.toml
  vipctl program show --explain
  vipctl program show --version 1
  vipctl --format json program show --explain

With --format json (or csv): version, name, timezone, and source (the TOML)
or, with --explain, explanation. Without a database (and without --version)
it prints the built-in default program, the one `vipctl init` loads.")]
    Show {
        /// Explain in plain words instead of printing the TOML.
        #[arg(long)]
        explain: bool,
        /// An older version (see `program versions`).
        #[arg(long, value_name = "N")]
        version: Option<i64>,
    },
    /// Store a new program version (old versions are kept).
    #[command(after_help = "Example:
  vipctl program set fixtures/programs/department-store.toml")]
    Set {
        /// The program file (TOML; `-` for stdin).
        file: String,
    },
    /// Validate a program file and explain it, without storing it.
    #[command(after_help = "Examples:
  vipctl program check fixtures/programs/mall.toml
  vipctl --format json program check fixtures/programs/mall.toml")]
    Check {
        /// The program file (TOML; `-` for stdin).
        file: String,
    },
    /// List the stored program versions.
    #[command(after_help = "Example:
  vipctl program versions")]
    Versions,
}

/// `program show --format json|csv`: the version shown (none for the
/// built-in program without a database), and its TOML, or with
/// `--explain` its plain-words explanation.
#[derive(serde::Serialize)]
struct Shown {
    version: Option<i64>,
    name: String,
    timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<String>,
}

/// `program check FILE --format json|csv`.
#[derive(serde::Serialize)]
struct Checked {
    file: String,
    valid: bool,
    name: String,
    timezone: String,
    explanation: String,
}

/// The stored program `program show` prints; `None` when there is no
/// database at all (and no `--version` was asked for): the built-in one is shown then.
fn shown(
    cli: &Cli,
    version: Option<i64>,
) -> Result<Option<(Option<i64>, String, program::Program)>> {
    if version.is_none() && !crate::store::is_server_url(&cli.db) && !cli.db.exists() {
        return Ok(None);
    }
    let st = store(cli, Access::Read)?;
    let (v, source, p) = ops::program::show_version(&st, version)?;
    Ok(Some((Some(v), source, p)))
}

pub(super) fn run(cli: &Cli, cmd: &ProgramCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        ProgramCmd::Check { file } => {
            let (_, p) = ops::program::load_file(file)?;
            if cli.format == Format::Table {
                write!(out, "{file}: valid\n{}", program::explain(&p))?;
            } else {
                output::record(
                    out,
                    cli.format,
                    &Checked {
                        file: file.clone(),
                        valid: true,
                        name: p.name.clone(),
                        timezone: p.timezone.to_string(),
                        explanation: program::explain(&p),
                    },
                )?;
            }
        }
        ProgramCmd::Show { explain, version } => {
            let (version, source, p) = match shown(cli, *version)? {
                Some(found) => found,
                None => {
                    stderr_line!(
                        "note: no database at {}: this is the built-in default program, which `vipctl init` loads",
                        cli.db.display()
                    );
                    (
                        None,
                        program::DEFAULT_PROGRAM.to_string(),
                        program::Program::default_program(),
                    )
                }
            };
            match cli.format {
                Format::Table if *explain => write!(out, "{}", program::explain(&p))?,
                Format::Table => write!(out, "{source}")?,
                _ => output::record(
                    out,
                    cli.format,
                    &Shown {
                        version,
                        name: p.name.clone(),
                        timezone: p.timezone.to_string(),
                        source: (!*explain).then_some(source),
                        explanation: explain.then(|| program::explain(&p)),
                    },
                )?,
            }
        }
        ProgramCmd::Set { file } => {
            let mut s = open(cli)?;
            let (v, p) = ops::program::set(&mut s.store, file, &s.ctx)?;
            #[derive(serde::Serialize)]
            struct Set {
                program: String,
                program_version: i64,
            }
            let printed = output::record(
                out,
                cli.format,
                &Set {
                    program: p.name,
                    program_version: v,
                },
            );
            return output::committed(out, printed, ExitCode::Done);
        }
        ProgramCmd::Versions => {
            let st = store(cli, Access::Read)?;
            let (_, current) = ops::program::current(&st)?;
            output::show_times_in(current.timezone);
            let mut rec = Records::new(
                out,
                cli.format,
                &["version", "created_at", "operator", "name"],
            );
            for v in ops::program::versions(&st)? {
                rec.push(&v)?;
            }
            rec.finish()?;
        }
    }
    Ok(ExitCode::Done)
}
