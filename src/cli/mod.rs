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

mod adjust;
mod audit;
mod completions;
mod db;
mod enroll;
mod expire;
mod export;
mod import;
mod init;
mod io;
mod journal;
mod man;
mod member;
mod member_lifecycle;
mod migrate;
pub mod output;
pub mod paths;
mod program;
mod purchase;
mod redeem;
mod report;
mod report_liability;
mod session;
mod simulate;
mod staff;
mod tier_recompute;
mod values;
mod year_end_reset;

use crate::error::{ExitCode, Usage};
use crate::ops::Ctx;
use crate::program::Program;
use anyhow::Result;
use chrono::{NaiveDate, Utc};
use clap::{Parser, Subcommand};
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

/// The help heading of the options every command takes, listed apart from
/// a command's own.
const GLOBAL: &str = "Global options";

/// Run a retail VIP points program over one local SQLite file.
#[derive(Debug, Parser)]
#[command(name = "vipctl", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The database: a SQLite file, or a PostgreSQL 15+ server as
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DBNAME (shown without its password).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "VIPCTL_DB",
        default_value = "vipctl.db",
        value_name = "PATH|URL"
    )]
    pub db: PathBuf,

    /// Who is making the change (stored with every change); default $USER, else $LOGNAME.
    #[arg(long, global = true,
        help_heading = GLOBAL, env = "VIPCTL_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,

    /// How to print records and summaries.
    #[arg(long, global = true,
        help_heading = GLOBAL, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// No progress bar.
    #[arg(long, short, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// The working date, in the program's time zone (default: today).
    #[arg(long, global = true,
        help_heading = GLOBAL, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub as_of: Option<NaiveDate>,

    /// The moment of the change: `YYYY-MM-DD HH:MM[:SS]` in the program's time
    /// zone, or RFC 3339 with an offset (default: now).
    #[arg(long, global = true,
        help_heading = GLOBAL, value_name = "TIME", value_parser = parse_at)]
    pub at: Option<String>,

    /// How long to wait for another process that is writing to the database
    /// (an import, a reset) before giving up with exit 1; 0 to 86400 (a day).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "SECONDS",
        default_value_t = crate::store::WAIT_DEFAULT_SECS,
        value_parser = clap::value_parser!(u64).range(0..=crate::store::WAIT_MAX_SECS)
    )]
    pub wait: u64,

    #[command(subcommand)]
    pub command: Command,
}

/// The command tree: each command's arguments, help and `run` live in its own file.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database and load a program.
    #[command(after_help = init::HELP)]
    Init(init::InitArgs),

    /// Show, set or check the points program.
    #[command(subcommand, after_help = program::HELP)]
    Program(program::ProgramCmd),

    /// Enrol one member from flags, or many from a CSV file (R1–R6).
    #[command(after_help = enroll::HELP)]
    Enroll(enroll::EnrollArgs),

    /// Credit points from till receipts: one from flags, or the nightly file (R7–R15).
    #[command(after_help = purchase::HELP)]
    Purchase(purchase::PurchaseArgs),

    /// Register and list the staff who serve members (R3, R33).
    #[command(subcommand, after_help = staff::HELP)]
    Staff(staff::StaffCmd),

    /// Look up and manage members.
    #[command(subcommand, after_help = member::HELP)]
    Member(member::MemberCmd),

    /// Redeem points for a reward or a cash offset, oldest-expiring first (R16–R18).
    #[command(after_help = redeem::HELP)]
    Redeem(redeem::RedeemArgs),

    /// A manual correction entry in the ledger (R21), or opening balances from a file.
    #[command(after_help = adjust::HELP)]
    Adjust(adjust::AdjustArgs),

    /// Re-rank every member by the ladder's conditions as of a date (R22–R26).
    #[command(after_help = tier_recompute::HELP)]
    TierRecompute(tier_recompute::TierRecomputeArgs),

    /// Expire the points a calendar-year program ends with a year (R27–R30).
    #[command(after_help = year_end_reset::HELP)]
    YearEndReset(year_end_reset::YearEndResetArgs),

    /// Expire what a per-lot or inactivity program ends by a date (R29, R30).
    #[command(after_help = expire::HELP)]
    Expire(expire::ExpireArgs),

    /// Export tiers, members, the ledger or receipts as CSV (R34, R35).
    #[command(after_help = export::HELP)]
    Export(export::ExportArgs),

    /// Reports for analysts (R34).
    #[command(after_help = report::HELP)]
    Report(report::ReportArgs),

    /// The receipts files imported (`purchase --file`), and undoing one.
    #[command(subcommand, after_help = import::HELP)]
    Import(import::ImportCmd),

    /// What a draft program would change: points, tiers, liability; writes nothing.
    #[command(after_help = simulate::HELP)]
    Simulate(simulate::SimulateArgs),

    /// Check every invariant of the ledger; exit 1 naming each violation.
    #[command(after_help = audit::HELP)]
    Audit(audit::AuditArgs),

    /// Who did what and when: exports, program changes, adjustments, undos (R35).
    #[command(after_help = journal::HELP)]
    Journal(journal::JournalArgs),

    /// Bring an older database's schema up to date (after copying it to FILE.pre-vN).
    #[command(after_help = migrate::HELP)]
    Migrate(migrate::MigrateArgs),

    /// Copy the database to an empty PostgreSQL database or a new SQLite file, verified.
    #[command(subcommand, after_help = db::HELP)]
    Db(db::DbCmd),

    /// Print a manual page (roff), generated from the same definitions as --help.
    #[command(after_help = man::HELP)]
    Man(man::ManArgs),

    /// Print a shell completion script.
    #[command(after_help = completions::HELP)]
    Completions(completions::CompletionsArgs),
}

impl Command {
    /// Runs the command, printing to `out`.
    fn run(&self, cli: &Cli, out: &mut dyn std::io::Write) -> Result<ExitCode> {
        match self {
            Command::Init(a) => init::run(cli, a, out),
            Command::Program(cmd) => program::run(cli, cmd, out),
            Command::Enroll(a) => enroll::run(cli, a, out),
            Command::Purchase(a) => purchase::run(cli, a, out),
            Command::Staff(cmd) => staff::run(cli, cmd, out),
            Command::Member(cmd) => member::run(cli, cmd, out),
            Command::Redeem(a) => redeem::run(cli, a, out),
            Command::Adjust(a) => adjust::run(cli, a, out),
            Command::TierRecompute(a) => tier_recompute::run(cli, a, out),
            Command::YearEndReset(a) => year_end_reset::run(cli, a, out),
            Command::Expire(a) => expire::run(cli, a, out),
            Command::Export(a) => export::run(cli, a, out),
            Command::Report(cmd) => report::run(cli, cmd, out),
            Command::Simulate(a) => simulate::run(cli, a, out),
            Command::Import(cmd) => import::run(cli, cmd, out),
            Command::Audit(a) => audit::run(cli, a, out),
            Command::Journal(a) => journal::run(cli, a, out),
            Command::Migrate(a) => migrate::run(cli, a, out),
            Command::Db(cmd) => db::run(cli, cmd, out),
            Command::Man(a) => man::run(cli, a, out),
            Command::Completions(a) => completions::run(cli, a, out),
        }
    }

    /// Whether the command only reads the database (and so never migrates it).
    fn reads_only(&self) -> bool {
        use member::MemberCmd;
        use program::ProgramCmd;
        use staff::StaffCmd;
        matches!(
            self,
            Command::Audit(_)
                | Command::Journal(_)
                | Command::Export(_)
                | Command::Report(_)
                | Command::Simulate(_)
                | Command::Import(import::ImportCmd::List)
                | Command::Member(MemberCmd::Show { .. } | MemberCmd::List { .. })
                | Command::Staff(StaffCmd::List { .. })
                | Command::Program(ProgramCmd::Show { .. } | ProgramCmd::Versions)
        )
    }
}

/// Runs the command line's command with stdout as its output.
fn run(cli: &Cli) -> Result<ExitCode> {
    use std::io::Write as _;
    let mut out = output::Named::new(std::io::stdout().lock(), "standard output");
    let code = cli.command.run(cli, &mut out)?;
    out.flush()?;
    Ok(code)
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
    /// `--operator`, else `$VIPCTL_OPERATOR`, `$USER`, `$LOGNAME` (all cron
    /// sets on Debian); `unknown` only as a last resort, with a warning.
    fn operator(&self) -> String {
        let from_env = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        self.operator
            .clone()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| from_env("USER"))
            .or_else(|| from_env("LOGNAME"))
            .unwrap_or_else(|| {
                stderr_line!(
                    "warning: no operator given (--operator, $VIPCTL_OPERATOR, $USER or $LOGNAME): changes are recorded as made by \"unknown\""
                );
                "unknown".to_string()
            })
    }

    /// The operator and clock, in the program's time zone.
    pub fn ctx(&self, program: &Program) -> Result<Ctx> {
        let tz = program.timezone;
        let now = match &self.at {
            Some(t) => crate::rules::time::parse_moment(t, tz)
                .map_err(|e| Usage(format!("--at {t:?}: {e}")))?,
            None => clock_now(),
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

/// The real clock: the one place vipctl reads it (`clippy.toml` bans
/// `Utc::now` everywhere else). Everything below the CLI is handed `Ctx`.
#[allow(clippy::disallowed_methods)]
pub(crate) fn clock_now() -> chrono::DateTime<Utc> {
    Utc::now()
}

/// Every manual page as (file name, roff text), as kept in `man/`.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    man::pages()
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
    match run(&cli) {
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
                    crate::store::display_name(&cli.db),
                    cli.wait
                );
                stderr_line!("  caused by: {e}");
            } else {
                stderr_line!("error: {e}");
            }
            for cause in e.chain().skip(1) {
                stderr_line!("  caused by: {cause}");
            }
            if let Some(note) = session::old_schema_note(&cli) {
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
