//! `vipctl program …`: show, set or check the points program.

use super::output::{self, Records};
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
  vipctl program show --version 1")]
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
    #[command(after_help = "Example:
  vipctl program check fixtures/programs/mall.toml")]
    Check {
        /// The program file (TOML; `-` for stdin).
        file: String,
    },
    /// List the stored program versions.
    #[command(after_help = "Example:
  vipctl program versions")]
    Versions,
}

pub(super) fn run(cli: &Cli, cmd: &ProgramCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        ProgramCmd::Check { file } => {
            let (_, p) = ops::program::load_file(file)?;
            write!(out, "{file}: valid\n{}", program::explain(&p))?;
        }
        ProgramCmd::Show { explain, version } => {
            let st = store(cli, Access::Read)?;
            let (source, p) = ops::program::show(&st, *version)?;
            if *explain {
                write!(out, "{}", program::explain(&p))?;
            } else {
                write!(out, "{source}")?;
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
