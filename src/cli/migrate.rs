//! `vipctl migrate`: bring an older database's schema up to date.

use super::output::{self, Format};
use super::session::store;
use super::Cli;
use crate::error::ExitCode;
use crate::store::Access;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl migrate
  vipctl --db shop.db migrate

Any command that writes migrates an older database first; commands that only
read (audit, member show, export, report) never do. The old file is copied to
FILE.pre-vN first (N: its schema version), so it can be put back.";

#[derive(Debug, Args)]
pub struct MigrateArgs {}

pub(super) fn run(cli: &Cli, _: &MigrateArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let st = store(cli, Access::Write)?;
    #[derive(serde::Serialize)]
    struct Schema {
        database: String,
        schema_from: u32,
        schema: u32,
        copy: Option<String>,
    }
    let done = Schema {
        database: crate::store::display_name(&cli.db),
        schema_from: st.migrated.as_ref().map_or(st.schema, |m| m.from),
        schema: st.schema,
        copy: st.migrated.as_ref().map(|m| {
            m.copy.as_ref().map_or_else(
                || "none (PostgreSQL: one transaction)".to_string(),
                |c| c.display().to_string(),
            )
        }),
    };
    let printed = if cli.format == Format::Table {
        match &done.copy {
            Some(_) => writeln!(
                out,
                "{} is now at schema v{} (was v{})",
                done.database, done.schema, done.schema_from
            ),
            None => writeln!(
                out,
                "{} is up to date (schema v{}); nothing changed",
                done.database, done.schema
            ),
        }
        .map_err(Into::into)
    } else {
        output::record(out, cli.format, &done)
    };
    output::committed(out, printed, ExitCode::Done)
}
