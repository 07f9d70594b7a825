//! `vipctl init`: create the database and load a program.

use super::{output, Cli};
use crate::error::ExitCode;
use crate::{ops, program};
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl init
  vipctl --db shop.db init --program fixtures/programs/mall.toml";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The program file (TOML); without it, the built-in default program.
    #[arg(long, value_name = "FILE")]
    program: Option<String>,
}

pub(super) fn run(cli: &Cli, a: &InitArgs, out: &mut dyn Write) -> Result<ExitCode> {
    // Read once: `--program -` is stdin, which cannot be read twice.
    let loaded = match &a.program {
        Some(f) => Some(ops::program::load_file(f)?),
        None => None,
    };
    let ctx = match &loaded {
        Some((_, p)) => cli.ctx(p)?,
        None => cli.ctx(&program::Program::default_program())?,
    };
    let (v, p) = ops::program::init(&cli.db, loaded, &ctx)?;
    #[derive(serde::Serialize)]
    struct Created {
        database: String,
        program: String,
        program_version: i64,
    }
    let printed = output::record(
        out,
        cli.format,
        &Created {
            database: crate::store::display_name(&cli.db),
            program: p.name,
            program_version: v,
        },
    );
    output::committed(out, printed, ExitCode::Done)
}
