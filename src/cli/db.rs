//! `vipctl db copy --to TARGET`: the whole database into an empty
//! PostgreSQL database or a new SQLite file, verified.

use super::output::{self, Format, Records};
use super::session::open;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use crate::store;
use anyhow::Result;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;

pub(super) const HELP: &str = "Examples:
  vipctl --db shop.db db copy --to postgres://vip@db.example/vip
  vipctl --db postgres://vip@db.example/vip db copy --to shop-copy.db";

const COPY_HELP: &str = "Examples:
  vipctl --db shop.db db copy --to postgres://vip@db.example/vip
  vipctl --db postgres://vip@db.example/vip db copy --to shop-copy.db
  vipctl --db shop.db db copy --to copy.db --format json

Copies every table of the database named by --db (an SQLite file or a
PostgreSQL URL) into TARGET: a PostgreSQL URL of an empty database (create
one with `createdb`), or the path of an SQLite file that does not exist yet.
Any direction works: SQLite to PostgreSQL and back, or the same engine on
both sides.

The source is read in one snapshot while other commands go on; the target
is written in one transaction and checked before it is committed: `audit`
must pass on it and its totals (members, ledger entries, sum of points, sum
of balances, receipts, sum of amounts) must equal the source's, which are
printed side by side. Otherwise nothing is written (exit 1, naming what
differs): a PostgreSQL target keeps no table, and an SQLite copy is built as
TARGET.partial and renamed to TARGET only once complete.

The source is opened as by any command that writes: an older schema is
migrated first (an SQLite file is copied to FILE.pre-vN before), and the copy
is recorded in the journal of both databases; so the source needs write
access. The target is created at this vipctl's schema version.

Exit 2, before anything is written: TARGET is the source database, an
existing file, or a server database that already has tables.
Exit 1: the source is missing or fails `audit`, the server cannot be
reached (named without its password), or the copy does not verify.";

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Copy the whole database into an empty PostgreSQL database or a new SQLite file, verified.
    #[command(after_help = COPY_HELP)]
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Where to copy to: `postgres://user@host/dbname` (an empty database)
    /// or the path of a new SQLite file.
    #[arg(long, value_name = "TARGET")]
    to: PathBuf,
}

pub(super) fn run(cli: &Cli, cmd: &DbCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        DbCmd::Copy(a) => copy(cli, a, out),
    }
}

fn copy(cli: &Cli, a: &CopyArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if !store::is_server_url(&a.to) && !store::is_server_url(&cli.db) {
        super::paths::check_output("--to", &a.to, &cli.db, &[])?;
    }
    let target = ops::copy::target(&a.to, &cli.db)?;
    let s = open(cli)?;
    let pb = cli.show_progress().then(|| {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg} {elapsed}/{eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    });
    let summary = ops::copy::copy(&s.store, target, &s.ctx, |p| {
        if let Some(pb) = &pb {
            pb.set_length(p.total);
            pb.set_position(p.rows);
            pb.set_message(p.table);
        }
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let summary = summary?;
    let printed = print(cli, out, &summary);
    output::committed(out, printed, ExitCode::Done)
}

fn print(cli: &Cli, out: &mut dyn Write, s: &ops::copy::Summary) -> Result<()> {
    if cli.format == Format::Json {
        return output::record(out, cli.format, s);
    }
    #[derive(serde::Serialize)]
    struct Line {
        total: &'static str,
        source: i64,
        target: i64,
    }
    let (a, b) = (&s.source, &s.target);
    let lines = [
        ("members", a.members, b.members),
        ("ledger_entries", a.ledger_entries, b.ledger_entries),
        ("points", a.points, b.points),
        ("balances", a.balances, b.balances),
        ("receipts", a.receipts, b.receipts),
        ("amount_fen", a.amount_fen, b.amount_fen),
    ];
    {
        let mut rec = Records::new(&mut *out, cli.format, &["total", "source", "target"]);
        for (total, source, target) in lines {
            rec.push(&Line {
                total,
                source,
                target,
            })?;
        }
        rec.finish()?;
    }
    if cli.format == Format::Table {
        writeln!(
            out,
            "copied {} rows in {} tables from {} to {} (schema v{}); audit passed on both, totals equal",
            s.rows,
            s.tables.len(),
            s.from,
            s.to,
            s.schema
        )?;
    }
    Ok(())
}
