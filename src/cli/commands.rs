//! The subcommands: each variant's arguments, and `run`, which validates
//! them, calls `ops` and prints.

use super::member::{member, MemberCmd};
use super::output::{self, Format, Records};
use super::purchase::{purchase, PurchaseArgs, PURCHASE_HELP};
use super::report::{report, ReportCmd};
use super::Cli;
use crate::csvio::Encoding;
use crate::error::{ExitCode, Usage};
use crate::ops::{self, members::Application, BatchSummary};
use crate::program;
use crate::store::{programs, Access, OpenOptions, Store};
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database and load a program.
    #[command(
        after_help = "Examples:\n  vipctl init\n  vipctl --db shop.db init --program fixtures/programs/mall.toml"
    )]
    Init {
        /// The program file (TOML); without it, the built-in default program.
        #[arg(long, value_name = "FILE")]
        program: Option<String>,
    },

    /// Show, set or check the points program.
    #[command(
        subcommand,
        after_help = "Examples:\n  vipctl program check fixtures/programs/mall.toml\n  vipctl program set fixtures/programs/mall.toml\n  vipctl program show --explain"
    )]
    Program(ProgramCmd),

    /// Enrol one member from flags, or many from a CSV file (R1–R6).
    #[command(
        after_help = "Examples:\n  vipctl enroll --name 张伟 --phone 13800138000 --id-number 11010519491231002X --store BJ01\n  vipctl enroll --file members.csv --rejects members.rejects.csv\n\nFile columns: card,name,phone,id_number,birthday,gender,store,staff,enrolled_at\n(only name,phone,id_number required)."
    )]
    Enroll(EnrollArgs),

    /// Credit points from till receipts: one from flags, or the nightly file (R7–R15).
    #[command(after_help = PURCHASE_HELP)]
    Purchase(PurchaseArgs),

    /// Register and list the staff who serve members (R3, R33).
    #[command(
        subcommand,
        after_help = "Examples:\n  vipctl staff add S001 --name 王芳 --store BJ01\n  vipctl staff add --file fixtures/staff.csv\n  vipctl staff list"
    )]
    Staff(StaffCmd),

    /// Look up and manage members.
    #[command(
        subcommand,
        after_help = "Examples:\n  vipctl member show 13800138000\n  vipctl member list --tier silver --format csv\n  vipctl member replace-card M00000001 --card C100234"
    )]
    Member(MemberCmd),

    /// Redeem points for a reward or a cash offset, oldest-expiring first (R16–R18).
    #[command(
        after_help = "Examples:\n  vipctl redeem --member 13800138000 --points 200 --note \"offset 200 yuan\"\n  vipctl redeem --member M00000001 --reward GIFT200 --used-by 李娜 --approved-by 张伟\n  vipctl redeem --file redemptions.csv\n\nFile columns: member,points,reward,used_by,approved_by,note,time,ref\n(rows with a ref are redeemed once however often the file is run).\nNot enough points: exit 4, nothing changed."
    )]
    Redeem(RedeemArgs),

    /// A manual correction entry in the ledger (R21), or opening balances from a file.
    #[command(
        after_help = "Examples:\n  vipctl adjust --member M00000001 --points 100 --reason \"opening balance\"\n  vipctl adjust --member 13800138000 --points -20 --reason \"double credit on 3 May\"\n  vipctl adjust --file opening.csv\n\nFile columns: member,points,expires_on,reason,ref: one lot per row with its\nown expiry (default: the program's policy), idempotent by ref.\nThe rejects file keeps every column, reason included, and adds line and\nreject_reason (why the row was rejected); fix the rows and run it again as\nit is: line and reject_reason are not read."
    )]
    Adjust(AdjustArgs),

    /// Re-rank every member by the ladder's conditions as of a date (R22–R26).
    #[command(
        after_help = "Examples:\n  vipctl tier-recompute --as-of 2026-12-31\n  vipctl tier-recompute --dry-run --changes changes.csv\n\nPrints, per tier, members before and after, upgrades and downgrades.\n--changes writes one CSV row per change: member_no,from,to,reason.\nRunning it twice for the same date changes nothing the second time."
    )]
    TierRecompute {
        /// Compute and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write one CSV row per change (`-` for stdout; the summary then
        /// goes to stderr). Never the database or one of its files.
        #[arg(long, value_name = "FILE")]
        changes: Option<String>,
    },

    /// Expire the points a calendar-year program ends with a year (R27–R30).
    #[command(
        after_help = "Examples:\n  vipctl year-end-reset --year 2026                  # from cron on 1 January\n  vipctl year-end-reset --year 2026 --dry-run --format json\n\nThe year must be over in the program's time zone (--as-of to state the date),\nelse exit 4. Points earned on 31 December roll over when the program says so\n(R28). Running it again for the same year expires nothing.\n\nAn --as-of or --at later than today is refused (exit 4) unless --dry-run, or\n--allow-future-date for a rehearsal on a copy of the database:\n  vipctl --db copy.db --as-of 2027-01-01 year-end-reset --year 2026 --allow-future-date"
    )]
    YearEndReset {
        #[arg(long, value_name = "YYYY", value_parser = super::parse_year)]
        year: i32,
        /// Compute and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Accept an --as-of/--at later than today: a rehearsal on a copy of the database.
        #[arg(long)]
        allow_future_date: bool,
        /// Members per committed chunk.
        #[arg(long, value_name = "N", default_value_t = ops::expiry::MEMBERS_PER_COMMIT, hide = true)]
        members_per_commit: i64,
    },

    /// Expire what a per-lot or inactivity program ends by a date (R29, R30).
    #[command(
        after_help = "Examples:\n  vipctl expire --as-of 2026-12-01\n  vipctl expire --dry-run\n\nPer-lot: lots whose expiry date has passed. Inactivity: every point of members\nwith no purchase for the program's months. Running it again expires nothing.\n\nAn --as-of or --at later than today is refused (exit 4) unless --dry-run, or\n--allow-future-date for a rehearsal on a copy of the database."
    )]
    Expire {
        /// Compute and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Accept an --as-of/--at later than today: a rehearsal on a copy of the database.
        #[arg(long)]
        allow_future_date: bool,
        /// Members per committed chunk.
        #[arg(long, value_name = "N", default_value_t = ops::expiry::MEMBERS_PER_COMMIT, hide = true)]
        members_per_commit: i64,
    },

    /// Export tiers, members, the ledger or receipts as CSV (R34, R35).
    #[command(
        after_help = "Examples:\n  vipctl export tiers -o tiers.csv --excel\n  vipctl export receipts --from 2026-10-01 --to 2026-10-31 -o october.csv\n  vipctl export members --include-pii -o full.csv\n\nPhone, ID number, name and birthday are masked unless --include-pii (which is\njournalled with the operator). --excel writes a UTF-8 BOM so Excel shows Chinese text right."
    )]
    Export {
        what: ops::export::What,
        /// Output file (`-` for stdout, the default). Never the database or
        /// one of its files.
        #[arg(short, long, value_name = "FILE", default_value = "-")]
        output: String,
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
        from: Option<chrono::NaiveDate>,
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
        to: Option<chrono::NaiveDate>,
        /// Unmasked phone, ID number, name and birthday (recorded with the operator, R35).
        #[arg(long)]
        include_pii: bool,
        /// Start with a UTF-8 byte-order mark for Excel.
        #[arg(long)]
        excel: bool,
        /// `export tiers`: add points_expiring_30d and points_expiring_year_end.
        #[arg(long)]
        expiring: bool,
    },

    /// Reports for analysts (R34).
    #[command(
        subcommand,
        after_help = "Examples:\n  vipctl report tiers\n  vipctl report tiers --from 2026-01-01 --to 2026-12-31 --format csv"
    )]
    Report(ReportCmd),

    /// Check every invariant of the ledger; exit 1 naming each violation.
    #[command(
        after_help = "Examples:\n  vipctl audit\n  vipctl audit --format json\n\nOnly reads: works on a read-only database file and never migrates it."
    )]
    Audit,

    /// Bring an older database's schema up to date (after copying it to FILE.pre-vN).
    #[command(
        after_help = "Examples:\n  vipctl migrate\n  vipctl --db shop.db migrate\n\nAny command that writes migrates an older database first; commands that only\nread (audit, member show, export, report) never do. The old file is copied to\nFILE.pre-vN first (N: its schema version), so it can be put back."
    )]
    Migrate,

    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  vipctl completions bash > /etc/bash_completion.d/vipctl\n  vipctl completions zsh > ~/.zfunc/_vipctl"
    )]
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Args)]
pub struct RedeemArgs {
    /// A CSV file of redemptions (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["member", "points", "reward"])]
    file: Option<String>,
    /// Where rejected rows go (default: the input path with .rejects.csv;
    /// `-` for stdout, the summary then goes to stderr).
    #[arg(long, value_name = "FILE", requires = "file")]
    rejects: Option<PathBuf>,
    /// The file's encoding (default: detected).
    #[arg(long, value_enum, default_value_t = Encoding::Auto, requires = "file")]
    encoding: Encoding,
    /// Card number, member number or phone.
    #[arg(long, value_name = "REF", required_unless_present = "file")]
    member: Option<String>,
    /// Points to take (with --reward, must equal the reward's points).
    #[arg(long, value_name = "N", allow_negative_numbers = true, required_unless_present_any = ["file", "reward"], value_parser = super::parse_points)]
    points: Option<i64>,
    /// A reward code from the program's catalogue.
    #[arg(long, value_name = "CODE")]
    reward: Option<String>,
    /// Who used the points, with the holder's consent (R18).
    #[arg(long, value_name = "NAME", requires = "approved_by")]
    used_by: Option<String>,
    /// Who approved the use (R18).
    #[arg(long, value_name = "NAME", requires = "used_by")]
    approved_by: Option<String>,
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdjustArgs {
    /// Opening balances from a CSV file (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["member", "points", "reason"])]
    file: Option<String>,
    /// Where rejected rows go (default: the input path with .rejects.csv;
    /// `-` for stdout, the summary then goes to stderr).
    #[arg(long, value_name = "FILE", requires = "file")]
    rejects: Option<PathBuf>,
    /// The file's encoding (default: detected).
    #[arg(long, value_enum, default_value_t = Encoding::Auto, requires = "file")]
    encoding: Encoding,
    /// Card number, member number or phone.
    #[arg(long, value_name = "REF", required_unless_present = "file")]
    member: Option<String>,
    /// Points to add (positive) or take (negative).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "±N",
        required_unless_present = "file",
        value_parser = super::parse_points
    )]
    points: Option<i64>,
    /// Why: kept in the ledger.
    #[arg(long, value_name = "TEXT", required_unless_present = "file")]
    reason: Option<String>,
    /// Let a negative adjustment take the balance below zero (shown as owed).
    #[arg(long)]
    allow_debt: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProgramCmd {
    /// Print the program in force (its TOML, or in plain words with --explain).
    #[command(
        after_help = "Examples:\n  vipctl program show > program.toml\n  vipctl program show --explain\n  vipctl program show --version 1"
    )]
    Show {
        /// Explain in plain words instead of printing the TOML.
        #[arg(long)]
        explain: bool,
        /// An older version (see `program versions`).
        #[arg(long, value_name = "N")]
        version: Option<i64>,
    },
    /// Store a new program version (old versions are kept).
    #[command(
        after_help = "Example:\n  vipctl program set fixtures/programs/department-store.toml"
    )]
    Set { file: String },
    /// Validate a program file and explain it, without storing it.
    #[command(after_help = "Example:\n  vipctl program check fixtures/programs/mall.toml")]
    Check { file: String },
    /// List the stored program versions.
    #[command(after_help = "Example:\n  vipctl program versions")]
    Versions,
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// A CSV file of members (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "phone", "id_number"])]
    file: Option<String>,
    /// Where rejected rows go (default: the input path with .rejects.csv;
    /// `-` for stdout, the summary then goes to stderr).
    #[arg(long, value_name = "FILE", requires = "file")]
    rejects: Option<PathBuf>,
    /// The file's encoding (default: detected).
    #[arg(long, value_enum, default_value_t = Encoding::Auto, requires = "file")]
    encoding: Encoding,
    #[arg(long, required_unless_present = "file")]
    name: Option<String>,
    #[arg(long, required_unless_present = "file")]
    phone: Option<String>,
    #[arg(long, required_unless_present = "file")]
    id_number: Option<String>,
    /// Default: the birth date in an 18-digit resident ID.
    #[arg(long, value_name = "YYYY-MM-DD")]
    birthday: Option<String>,
    /// M or F.
    #[arg(long)]
    gender: Option<String>,
    /// Card number (default: the member number).
    #[arg(long, value_name = "NO")]
    card: Option<String>,
    #[arg(long, value_name = "CODE")]
    store: Option<String>,
    /// The staff member who enrolled them.
    #[arg(long, value_name = "CODE")]
    staff: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Register one staff member, or many from a CSV file.
    #[command(
        after_help = "Examples:\n  vipctl staff add S001 --name 王芳 --phone 13912345678 --store BJ01\n  vipctl staff add --file staff.csv\n\nFile columns: code,name,phone,id_number,store"
    )]
    Add {
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        code: Option<String>,
        #[arg(long, required_unless_present = "file")]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        id_number: Option<String>,
        #[arg(long)]
        store: Option<String>,
        /// A CSV file of staff (`-` for stdin).
        #[arg(long, value_name = "FILE")]
        file: Option<String>,
        /// Where rejected rows go (default: the input path with .rejects.csv;
        /// `-` for stdout, the summary then goes to stderr).
        #[arg(long, value_name = "FILE", requires = "file")]
        rejects: Option<PathBuf>,
        /// The file's encoding (default: detected).
        #[arg(long, value_enum, default_value_t = Encoding::Auto)]
        encoding: Encoding,
    },
    /// List the staff (name, phone and ID number masked unless --include-pii).
    #[command(after_help = "Example:\n  vipctl staff list --format csv")]
    List {
        /// Unmasked name, phone and ID number (recorded with the operator, R35).
        #[arg(long)]
        include_pii: bool,
    },
}

pub(super) fn spinner(cli: &Cli, what: &str) -> Option<ProgressBar> {
    if !cli.show_progress() {
        return None;
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec}) {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(pb)
}

/// A progress bar over members, when stderr is a terminal.
pub(super) fn bar(cli: &Cli) -> Option<ProgressBar> {
    cli.show_progress().then(|| {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} members {elapsed}/{eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    })
}

pub(super) fn tick(pb: &Option<ProgressBar>, n: i64, of: i64) {
    if let Some(pb) = pb {
        pb.set_length(u64::try_from(of).unwrap_or(0));
        pb.set_position(u64::try_from(n).unwrap_or(0));
    }
}

pub(super) fn print_expired(
    out: &mut dyn Write,
    format: Format,
    done: &ops::expiry::Expired,
    pb: Option<ProgressBar>,
) -> Result<()> {
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if format == Format::Json {
        return output::record(out, format, done);
    }
    let mut rec = Records::new(out, format, &["tier", "members", "points"]);
    for t in &done.tiers {
        rec.push(t)?;
    }
    rec.finish()?;
    if format == Format::Table {
        writeln!(
            out,
            "{}: {} members affected, {} points expired{}",
            done.what,
            done.members_affected,
            done.points_expired,
            if done.dry_run {
                " (dry run: nothing changed)"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// A file argument for writing (`-` is stdout).
pub(super) fn create_output(path: &str) -> Result<Box<dyn Write>> {
    if path == "-" {
        return Ok(Box::new(output::Named::new(
            std::io::BufWriter::new(std::io::stdout()),
            "standard output",
        )));
    }
    let f =
        std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot create {path}: {e}"))?;
    Ok(Box::new(output::Named::new(
        std::io::BufWriter::new(f),
        path,
    )))
}

/// Opens the database for a command that writes (migrating an older schema
/// first, and saying so).
pub(super) fn open(cli: &Cli) -> Result<(Store, ops::Ctx, program::Program, i64)> {
    open_as(cli, Access::Write)
}

/// Opens the database as `access` says, with the program and context.
pub(super) fn open_as(
    cli: &Cli,
    access: Access,
) -> Result<(Store, ops::Ctx, program::Program, i64)> {
    let st = store(cli, access)?;
    let (version, _, p) = programs::current(&st.conn)?;
    let ctx = cli.ctx(&p)?;
    Ok((st, ctx, p, version))
}

/// SPEC "Dates": `year-end-reset` and `expire` run as of a date later than
/// today (the real clock, in the program's time zone) would expire points
/// before their time; refused unless `--dry-run` or `--allow-future-date`.
fn refuse_future_date(
    cli: &Cli,
    ctx: &ops::Ctx,
    p: &program::Program,
    command: &str,
) -> Result<()> {
    let today = chrono::Utc::now().with_timezone(&p.timezone).date_naive();
    let at_date = ctx.now.with_timezone(&p.timezone).date_naive();
    let (flag, date) = if cli.as_of.is_some() && ctx.today >= at_date {
        ("--as-of", ctx.today.to_string())
    } else if let (Some(at), true) = (&cli.at, at_date > today) {
        ("--at", at.clone())
    } else {
        ("--as-of", ctx.today.to_string())
    };
    if ctx.today > today || at_date > today {
        return Err(crate::error::Refused(format!(
            "{command} {flag} {date} is in the future (today is {today} in {}); nothing changed. \
             Rehearse with --dry-run, or on a copy of the database with --allow-future-date",
            p.timezone
        ))
        .into());
    }
    Ok(())
}

/// Opens the database as `access` says (waiting `--wait` for a writer).
pub(super) fn store(cli: &Cli, access: Access) -> Result<Store> {
    let st = Store::open_with(
        &cli.db,
        OpenOptions {
            access,
            wait: std::time::Duration::from_secs(cli.wait),
        },
    )?;
    if let Some(v) = st.old_schema {
        stderr_line!(
            "note: {} has schema v{v}, older than this vipctl's v{}; this command only reads, so it reads an up-to-date copy in memory and leaves the file as it is (`vipctl migrate` upgrades it)",
            cli.db.display(),
            st.schema
        );
    }
    if let Some(m) = &st.migrated {
        stderr_line!(
            "migrating {} from schema v{} to v{}; a copy of the old file is at {}",
            cli.db.display(),
            m.from,
            m.to,
            m.copy.display()
        );
    }
    Ok(st)
}

/// For a command that only reads and failed: a note when the database's
/// schema is older than this build's (readers never migrate it).
pub(super) fn old_schema_note(cli: &Cli) -> Option<String> {
    let reads_only = matches!(
        &cli.command,
        Command::Audit
            | Command::Export { .. }
            | Command::Report(_)
            | Command::Member(MemberCmd::Show { .. } | MemberCmd::List { .. })
            | Command::Staff(StaffCmd::List { .. })
            | Command::Program(ProgramCmd::Show { .. } | ProgramCmd::Versions)
    );
    if !reads_only {
        return None;
    }
    let st = Store::open_with(
        &cli.db,
        OpenOptions {
            access: Access::Read,
            wait: std::time::Duration::from_secs(cli.wait),
        },
    )
    .ok()?;
    let latest = crate::store::schema::LATEST;
    st.old_schema.map(|v| {
        format!(
            "{} has schema v{v}, older than this vipctl's v{latest}; commands that only read never migrate it: run `vipctl migrate` (it keeps a copy of the old file) and try again",
            cli.db.display()
        )
    })
}

/// The rejects file a batch over `input` writes: `--rejects`, else the
/// default beside the input; refused when it is the database or the input.
pub(super) fn rejects_path(
    cli: &Cli,
    input: &str,
    rejects: &Option<PathBuf>,
    dry_run: bool,
) -> Result<Option<PathBuf>> {
    let path = rejects
        .clone()
        .unwrap_or_else(|| crate::csvio::Rejects::default_path(input));
    if !dry_run {
        super::paths::check_output("--rejects", &path, &cli.db, &[input])?;
    }
    super::paths::check_input_streams(input, "--rejects", (!dry_run).then_some(path.as_path()))?;
    Ok(Some(path))
}

/// Where a batch's summary goes: stderr when its rejects take stdout.
pub(super) fn summary_out<'a>(
    rejects: &Option<PathBuf>,
    out: &'a mut dyn Write,
    err: &'a mut std::io::Stderr,
) -> &'a mut dyn Write {
    if rejects.as_ref().is_some_and(|r| r.as_os_str() == "-") {
        err
    } else {
        out
    }
}

pub(super) fn batch_exit(summary: &BatchSummary) -> ExitCode {
    if summary.rejected > 0 {
        ExitCode::Rejects
    } else {
        ExitCode::Done
    }
}

pub(super) fn report_rejects(summary: &BatchSummary) {
    if let Some(f) = &summary.rejects_file {
        stderr_line!(
            "warning: {} rows rejected, written to {}",
            summary.rejected,
            if f == "-" { "stdout" } else { f }
        );
    }
}

/// The flags `year-end-reset` and `expire` share.
struct ExpiryFlags {
    dry_run: bool,
    allow_future_date: bool,
    members_per_commit: i64,
}

/// `year-end-reset` and `expire`: refuse a future date unless rehearsing,
/// run the job with a progress bar, print what expired.
fn expiry_job(
    cli: &Cli,
    out: &mut dyn Write,
    command: &str,
    how: ExpiryFlags,
    job: impl FnOnce(
        &mut Store,
        ops::expiry::Run,
        &ops::Ctx,
        &mut dyn FnMut(i64, i64),
    ) -> Result<ops::expiry::Expired>,
) -> Result<ExitCode> {
    if how.members_per_commit < 1 {
        return Err(Usage("--members-per-commit must be at least 1".into()).into());
    }
    let (mut st, ctx, p, _) = open(cli)?;
    if !how.dry_run && !how.allow_future_date {
        refuse_future_date(cli, &ctx, &p, command)?;
    }
    let pb = bar(cli);
    let run = ops::expiry::Run {
        dry_run: how.dry_run,
        members_per_commit: how.members_per_commit,
    };
    let done = job(&mut st, run, &ctx, &mut |n, of| tick(&pb, n, of))?;
    let printed = print_expired(out, cli.format, &done, pb);
    if done.dry_run {
        printed?;
        Ok(ExitCode::Done)
    } else {
        output::committed(out, printed, ExitCode::Done)
    }
}

pub fn run(cli: &Cli) -> Result<ExitCode> {
    let mut out = output::Named::new(std::io::stdout().lock(), "standard output");
    match &cli.command {
        Command::Init { program } => {
            // Read once: `--program -` is stdin, which cannot be read twice.
            let loaded = match program {
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
                &mut out,
                cli.format,
                &Created {
                    database: cli.db.display().to_string(),
                    program: p.name,
                    program_version: v,
                },
            );
            return output::committed(&mut out, printed, ExitCode::Done);
        }
        Command::Program(cmd) => match cmd {
            ProgramCmd::Check { file } => {
                let (_, p) = ops::program::load_file(file)?;
                write!(out, "{file}: valid\n{}", program::explain(&p))?;
            }
            ProgramCmd::Show { explain, version } => {
                let st = store(cli, Access::Read)?;
                let (source, p) = match version {
                    Some(v) => {
                        let p = programs::by_version(&st.conn, *v)?;
                        let src: String = st.conn.query_row(
                            "SELECT source FROM program_versions WHERE version = ?1",
                            [v],
                            |r| r.get(0),
                        )?;
                        (src, p)
                    }
                    None => {
                        let (_, src, p) = programs::current(&st.conn)?;
                        (src, p)
                    }
                };
                if *explain {
                    write!(out, "{}", program::explain(&p))?;
                } else {
                    write!(out, "{source}")?;
                }
            }
            ProgramCmd::Set { file } => {
                let (mut st, ctx, _, _) = open(cli)?;
                let (v, p) = ops::program::set(&mut st, file, &ctx)?;
                #[derive(serde::Serialize)]
                struct Set {
                    program: String,
                    program_version: i64,
                }
                let printed = output::record(
                    &mut out,
                    cli.format,
                    &Set {
                        program: p.name,
                        program_version: v,
                    },
                );
                return output::committed(&mut out, printed, ExitCode::Done);
            }
            ProgramCmd::Versions => {
                let st = store(cli, Access::Read)?;
                let mut rec = Records::new(
                    &mut out,
                    cli.format,
                    &["version", "created_at", "operator", "name"],
                );
                #[derive(serde::Serialize)]
                struct Version {
                    version: i64,
                    created_at: String,
                    operator: String,
                    name: String,
                }
                for (version, created_at, operator, name) in programs::list(&st.conn)? {
                    rec.push(&Version {
                        version,
                        created_at,
                        operator,
                        name,
                    })?;
                }
                rec.finish()?;
            }
        },
        Command::Enroll(a) => {
            let rejects = match &a.file {
                Some(file) => rejects_path(cli, file, &a.rejects, false)?,
                None => None,
            };
            let (mut st, ctx, _, _) = open(cli)?;
            if let Some(file) = &a.file {
                let pb = spinner(cli, "enrolling");
                let summary = ops::members::enroll_file(
                    &mut st,
                    file,
                    a.encoding,
                    rejects.clone(),
                    &ctx,
                    |n| {
                        if let Some(pb) = &pb {
                            pb.set_position(n);
                        }
                    },
                )?;
                if let Some(pb) = pb {
                    pb.finish_and_clear();
                }
                let mut err = std::io::stderr();
                let printed = output::record(
                    summary_out(&rejects, &mut out, &mut err),
                    cli.format,
                    &summary,
                );
                report_rejects(&summary);
                return output::committed(&mut out, printed, batch_exit(&summary));
            }
            let app = Application {
                card: a.card.clone().unwrap_or_default(),
                name: a.name.clone().unwrap_or_default(),
                phone: a.phone.clone().unwrap_or_default(),
                id_number: a.id_number.clone().unwrap_or_default(),
                birthday: a.birthday.clone().unwrap_or_default(),
                gender: a.gender.clone().unwrap_or_default(),
                store: a.store.clone().unwrap_or_default(),
                staff: a.staff.clone().unwrap_or_default(),
                enrolled_at: ctx.today.to_string(),
            };
            let (member_no, card) = ops::members::enroll_one(&mut st, &app, &ctx)?;
            #[derive(serde::Serialize)]
            struct Enrolled {
                member_no: String,
                card: String,
            }
            let printed = if cli.format == Format::Table {
                writeln!(out, "{member_no}").map_err(Into::into)
            } else {
                output::record(&mut out, cli.format, &Enrolled { member_no, card })
            };
            return output::committed(&mut out, printed, ExitCode::Done);
        }
        Command::Purchase(a) => return purchase(cli, a, &mut out),
        Command::Staff(cmd) => match cmd {
            StaffCmd::Add {
                code,
                name,
                phone,
                id_number,
                store,
                file,
                rejects,
                encoding,
            } => {
                let rejects = match file {
                    Some(file) => rejects_path(cli, file, rejects, false)?,
                    None => None,
                };
                let (mut st, ctx, _, _) = open(cli)?;
                if let Some(file) = file {
                    let summary =
                        ops::staff::add_file(&mut st, file, *encoding, rejects.clone(), &ctx)?;
                    let mut err = std::io::stderr();
                    let printed = output::record(
                        summary_out(&rejects, &mut out, &mut err),
                        cli.format,
                        &summary,
                    );
                    report_rejects(&summary);
                    return output::committed(&mut out, printed, batch_exit(&summary));
                }
                let s = ops::staff::validate(
                    code.as_deref().unwrap_or_default(),
                    name.as_deref().unwrap_or_default(),
                    phone.as_deref().unwrap_or_default(),
                    id_number.as_deref().unwrap_or_default(),
                    store.as_deref().unwrap_or_default(),
                )
                .map_err(Usage)?;
                ops::staff::add(&mut st, &s, &ctx)?;
                let printed = output::record(&mut out, cli.format, &s);
                return output::committed(&mut out, printed, ExitCode::Done);
            }
            StaffCmd::List { include_pii } => {
                let (st, ctx, _, _) = open_as(cli, Access::ReadJournal)?;
                let staff = ops::staff::list(&st, *include_pii, &ctx)?;
                let mut rec = Records::new(
                    &mut out,
                    cli.format,
                    &["code", "name", "phone", "id_number", "store"],
                );
                for s in staff {
                    rec.push(&s)?;
                }
                rec.finish()?;
            }
        },
        Command::Member(cmd) => return member(cli, cmd, &mut out),
        Command::Redeem(a) => {
            let rejects = match &a.file {
                Some(file) => rejects_path(cli, file, &a.rejects, false)?,
                None => None,
            };
            let (mut st, ctx, _, _) = open(cli)?;
            if let Some(file) = &a.file {
                let summary =
                    ops::redeem::redeem_file(&mut st, file, a.encoding, rejects.clone(), &ctx)?;
                let mut err = std::io::stderr();
                let printed = output::record(
                    summary_out(&rejects, &mut out, &mut err),
                    cli.format,
                    &summary,
                );
                report_rejects(&summary);
                return output::committed(&mut out, printed, batch_exit(&summary));
            }
            let r = ops::redeem::Redemption {
                member: a.member.clone().unwrap_or_default(),
                points: a.points,
                reward: a.reward.clone(),
                used_by: a.used_by.clone(),
                approved_by: a.approved_by.clone(),
                note: a.note.clone(),
                reference: None,
            };
            let done = ops::redeem::redeem(&mut st, &r, &ctx)?;
            let printed = output::record(&mut out, cli.format, &done);
            return output::committed(&mut out, printed, ExitCode::Done);
        }
        Command::Adjust(a) => {
            let rejects = match &a.file {
                Some(file) => rejects_path(cli, file, &a.rejects, false)?,
                None => None,
            };
            let (mut st, ctx, _, _) = open(cli)?;
            if let Some(file) = &a.file {
                let summary =
                    ops::redeem::opening_file(&mut st, file, a.encoding, rejects.clone(), &ctx)?;
                let mut err = std::io::stderr();
                let printed = output::record(
                    summary_out(&rejects, &mut out, &mut err),
                    cli.format,
                    &summary,
                );
                report_rejects(&summary);
                return output::committed(&mut out, printed, batch_exit(&summary));
            }
            let done = ops::ledger::adjust(
                &mut st,
                a.member.as_deref().unwrap_or_default(),
                a.points.unwrap_or_default(),
                a.reason.as_deref().unwrap_or_default(),
                a.allow_debt,
                &ctx,
            )?;
            let printed = output::record(&mut out, cli.format, &done);
            return output::committed(&mut out, printed, ExitCode::Done);
        }
        Command::TierRecompute { dry_run, changes } => {
            if let Some(path) = changes {
                super::paths::check_output("--changes", Path::new(path), &cli.db, &[])?;
            }
            let (mut st, ctx, _, _) = open(cli)?;
            let writer = match changes {
                Some(path) => {
                    let out = create_output(path)?;
                    let mut w = csv::WriterBuilder::new()
                        .has_headers(false)
                        .from_writer(out);
                    w.write_record(["member_no", "from", "to", "reason"])?;
                    Some(w)
                }
                None => None,
            };
            let pb = spinner(cli, "re-ranking");
            let writer = std::cell::RefCell::new(writer);
            let changes_name = changes.as_deref().unwrap_or_default();
            let done = ops::tiers::recompute(
                &mut st,
                *dry_run,
                &ctx,
                |c| {
                    if let Some(w) = writer.borrow_mut().as_mut() {
                        w.serialize(c)
                            .with_context(|| format!("cannot write --changes {changes_name}"))?;
                    }
                    Ok(())
                },
                || {
                    if let Some(w) = writer.borrow_mut().as_mut() {
                        w.flush()
                            .with_context(|| format!("cannot write --changes {changes_name}"))?;
                    }
                    Ok(())
                },
            )?;
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            // `--changes -` takes stdout: the summary goes to stderr.
            let mut err = std::io::stderr();
            let out: &mut dyn Write = if changes.as_deref() == Some("-") {
                &mut err
            } else {
                &mut out
            };
            let printed = (|| -> Result<()> {
                match cli.format {
                    Format::Json => output::record(out, cli.format, &done)?,
                    _ => {
                        let mut rec = Records::new(
                            out,
                            cli.format,
                            &["tier", "name", "before", "after", "upgrades", "downgrades"],
                        );
                        for t in &done.tiers {
                            rec.push(t)?;
                        }
                        rec.finish()?;
                        if cli.format == Format::Table {
                            writeln!(
                                out,
                                "{} members as of {}, {} changes{}",
                                done.members,
                                done.as_of,
                                done.changes,
                                if done.dry_run {
                                    " (dry run: nothing changed)"
                                } else {
                                    ""
                                }
                            )?;
                        }
                    }
                }
                out.flush()?;
                Ok(())
            })();
            if done.dry_run {
                printed?;
            } else {
                return output::committed(&mut std::io::sink(), printed, ExitCode::Done);
            }
        }
        Command::YearEndReset {
            year,
            dry_run,
            allow_future_date,
            members_per_commit,
        } => {
            let how = ExpiryFlags {
                dry_run: *dry_run,
                allow_future_date: *allow_future_date,
                members_per_commit: *members_per_commit,
            };
            return expiry_job(
                cli,
                &mut out,
                "year-end-reset",
                how,
                |st, run, ctx, tick| ops::expiry::year_end(st, *year, run, ctx, tick),
            );
        }
        Command::Expire {
            dry_run,
            allow_future_date,
            members_per_commit,
        } => {
            let how = ExpiryFlags {
                dry_run: *dry_run,
                allow_future_date: *allow_future_date,
                members_per_commit: *members_per_commit,
            };
            return expiry_job(cli, &mut out, "expire", how, |st, run, ctx, tick| {
                ops::expiry::expire(st, run, ctx, tick)
            });
        }
        Command::Export {
            what,
            output: path,
            from,
            to,
            include_pii,
            excel,
            expiring,
        } => {
            super::check_period(*from, *to)?;
            super::paths::check_output("-o", Path::new(path), &cli.db, &[])?;
            let (st, ctx, _, _) = open_as(cli, Access::ReadJournal)?;
            let opts = ops::export::Options {
                what: *what,
                from: *from,
                to: *to,
                include_pii: *include_pii,
                excel: *excel,
                expiring: *expiring,
                target: if path == "-" {
                    "<stdout>".into()
                } else {
                    path.clone()
                },
            };
            ops::export::check(&st, &opts)?;
            let pb = spinner(cli, "exporting");
            let mut sink = create_output(path)?;
            let done = ops::export::export(&st, &opts, &ctx, &mut sink, |n| {
                if let Some(pb) = &pb {
                    pb.set_position(n);
                }
            })?;
            sink.flush()?;
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            if !done.journalled {
                stderr_line!(
                    "warning: database {} cannot be written ({}): this export is not recorded in its journal",
                    cli.db.display(),
                    match st.old_schema {
                        Some(v) => format!("schema v{v}, not migrated by a reader"),
                        None => "read-only".to_string(),
                    }
                );
            }
            if path != "-" {
                output::record(&mut out, cli.format, &done)?;
            }
        }
        Command::Report(cmd) => return report(cli, cmd, &mut out),
        Command::Migrate => {
            let st = store(cli, Access::Write)?;
            #[derive(serde::Serialize)]
            struct Schema {
                database: String,
                schema_from: u32,
                schema: u32,
                copy: Option<String>,
            }
            let done = Schema {
                database: cli.db.display().to_string(),
                schema_from: st.migrated.as_ref().map_or(st.schema, |m| m.from),
                schema: st.schema,
                copy: st.migrated.as_ref().map(|m| m.copy.display().to_string()),
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
                output::record(&mut out, cli.format, &done)
            };
            return output::committed(&mut out, printed, ExitCode::Done);
        }
        Command::Audit => {
            let st = store(cli, Access::Read)?;
            let report = ops::ledger::audit(&st)?;
            match cli.format {
                Format::Json => output::record(&mut out, cli.format, &report)?,
                _ => {
                    let mut rec = Records::new(&mut out, cli.format, &["check", "detail"]);
                    for v in &report.violations {
                        rec.push(v)?;
                    }
                    if !report.violations.is_empty() || cli.format == Format::Csv {
                        rec.finish()?;
                    }
                    if cli.format == Format::Table && report.violations.is_empty() {
                        writeln!(
                            out,
                            "audit passed: {} checks over {} members and {} ledger entries",
                            report.checks.len(),
                            report.members,
                            report.entries
                        )?;
                    }
                }
            }
            if !report.violations.is_empty() {
                anyhow::bail!("audit found {} violation(s)", report.violations.len());
            }
        }
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics when its
            // writer fails, and `vipctl completions bash | head` must not.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut super::command(), "vipctl", &mut script);
            out.write_all(&script)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::Done)
}
