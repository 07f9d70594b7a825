//! The command line: parses arguments into typed values, builds the context
//! (operator, clock), calls `ops`, prints. The only layer that knows about
//! terminals, environment variables and the clock.

/// A line on stderr that never panics: when stderr itself cannot be written
/// (`2>/dev/full`), the line is lost and the exit code still tells.
/// (`eprintln!` panics then.)
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod commands;
mod member;
pub mod output;
pub mod paths;
mod purchase;
mod report;

use crate::error::{ExitCode, Usage};
use crate::ops::Ctx;
use crate::program::Program;
use anyhow::Result;
use chrono::{NaiveDate, Utc};
use clap::Parser;
use output::Format;
use std::io::IsTerminal;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  vipctl init --program fixtures/programs/mall.toml
  vipctl staff add --file fixtures/staff.csv
  vipctl enroll --file fixtures/members.csv
  vipctl member show 13900000001
  vipctl adjust --member M00000001 --points 100 --reason \"opening balance\"
  vipctl audit
  vipctl --wait 60 purchase --file day.csv    # wait up to a minute for a running job";

/// Run a retail VIP points program over one local SQLite file.
#[derive(Debug, Parser)]
#[command(name = "vipctl", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The database file.
    #[arg(
        long,
        global = true,
        env = "VIPCTL_DB",
        default_value = "vipctl.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,

    /// Who is making the change (stored with every change); default $USER.
    #[arg(long, global = true, env = "VIPCTL_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,

    /// How to print records and summaries.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// The working date, in the program's time zone (default: today).
    #[arg(long, global = true, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub as_of: Option<NaiveDate>,

    /// The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program's time
    /// zone, or RFC 3339 with an offset (default: now).
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_at)]
    pub at: Option<String>,

    /// How long to wait for another process that is writing to the database
    /// (an import, a reset) before giving up with exit 1; 0 to 86400 (a day).
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value_t = crate::store::WAIT_DEFAULT_SECS,
        value_parser = clap::value_parser!(u64).range(0..=crate::store::WAIT_MAX_SECS)
    )]
    pub wait: u64,

    #[command(subcommand)]
    pub command: commands::Command,
}

/// A date flag: `YYYY-MM-DD`, the year four digits from 1900 to 2999.
pub(crate) fn parse_day(s: &str) -> Result<NaiveDate, String> {
    crate::rules::time::parse_day(s).map_err(|_| {
        format!("{s:?} is not a date (YYYY-MM-DD, a four-digit year from 1900 to 2999)")
    })
}

/// `--points`, `--points-used`: a whole number; one past any entry's reach
/// is refused naming the bound (10^12 points).
pub(crate) fn parse_points(s: &str) -> Result<i64, String> {
    crate::rules::ledger::parse_points(s)
}

/// `--at`: its year is checked here; the rest once the program's time zone is known.
fn parse_at(s: &str) -> Result<String, String> {
    crate::rules::time::check_year(s.trim())?;
    Ok(s.to_string())
}

/// A year flag: four digits, 1900 to 2999.
pub(crate) fn parse_year(s: &str) -> Result<i32, String> {
    crate::rules::time::parse_year(s)
}

/// `--from` after `--to` is a usage error, naming both.
pub(crate) fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<()> {
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(Usage(format!(
                "--from {from} is after --to {to}: give the earlier date first"
            ))
            .into());
        }
    }
    Ok(())
}

impl Cli {
    fn operator(&self) -> String {
        self.operator
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// The operator and clock, in the program's time zone.
    pub fn ctx(&self, program: &Program) -> Result<Ctx> {
        let tz = program.timezone;
        let now = match &self.at {
            Some(t) => crate::rules::time::parse_moment(t, tz)
                .map_err(|e| Usage(format!("--at {t:?}: {e}")))?,
            None => Utc::now(),
        };
        let today = self
            .as_of
            .unwrap_or_else(|| now.with_timezone(&tz).date_naive());
        Ok(Ctx {
            operator: self.operator(),
            now,
            today,
        })
    }

    /// Whether to draw progress bars.
    pub fn show_progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// The clap command tree (for completions and tests).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Parses the arguments, runs the command, prints errors; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage as i32
            } else {
                0
            };
            let _ = e.print();
            return code;
        }
    };
    // `vipctl … >> vipctl.db`: refused before anything is written, with the
    // message on the stream that is not the database.
    let bad = paths::check_streams(&cli.db);
    if let Some((_, e)) = bad.first() {
        let names: Vec<&str> = bad.iter().map(|(n, _)| *n).collect();
        if !names.contains(&"stderr") {
            stderr_line!("error: {e}");
        } else if !names.contains(&"stdout") {
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout(), "error: {e}");
        }
        return ExitCode::Usage as i32;
    }
    match commands::run(&cli) {
        Ok(code) => code as i32,
        Err(e) => {
            if let Some(output::Committed(code)) = e.downcast_ref::<output::Committed>() {
                // The change is in: the command's own exit code, and a
                // warning saying so and why its result is missing (none
                // for a reader that closed the pipe).
                if !is_broken_pipe(&e) {
                    stderr_line!("warning: {e:#}");
                }
                return *code as i32;
            }
            if is_broken_pipe(&e) {
                return 0;
            }
            if crate::store::is_busy_error(&e) {
                stderr_line!(
                    "error: database {} is locked: another process holds it (waited {} s; see --wait SECONDS)",
                    cli.db.display(),
                    cli.wait
                );
                stderr_line!("  caused by: {e}");
            } else {
                stderr_line!("error: {e}");
            }
            for cause in e.chain().skip(1) {
                stderr_line!("  caused by: {cause}");
            }
            if let Some(note) = commands::old_schema_note(&cli) {
                stderr_line!("  note: {note}");
            }
            ExitCode::of(&e) as i32
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(|ce| matches!(ce.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
            || c.downcast_ref::<serde_json::Error>().is_some_and(|je| je.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}
