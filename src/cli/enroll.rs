//! `vipctl enroll`: one member from flags, or many from a CSV file (R1–R6).

use super::io::{print_batch, rejects_path, spinner};
use super::output::{self, Format};
use super::session::open;
use super::values::EncodingArg;
use super::Cli;
use crate::error::ExitCode;
use crate::ops::{self, members::Application};
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

pub(super) const HELP: &str = "Examples:
  vipctl enroll --name 张伟 --phone 13800138000 --id-number 11010519491231002X --store BJ01
  vipctl enroll --file members.csv --rejects members.rejects.csv
  vipctl enroll --name 张伟 --phone 13800138000 --id-number 11010519491231002X --receipt BJ01:R0001 --receipt BJ01:R0002

A program with an enrolment threshold (R6, `[enroll]`) enrols only on the
person's own receipts, stored without a member: name each with --receipt
STORE:RECEIPT. Below the threshold the enrolment is refused (exit 4) naming
the shortfall; otherwise the receipts become the new member's and earn as of
their own time, and a program's `[[enroll.direct]]` may start the member in a
higher tier.

File columns: card,name,phone,id_number,birthday,gender,store,staff,enrolled_at,consent
(only name,phone,id_number required; consent is yes or no: members who said no
never appear in care or birthday lists).";

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
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto, requires = "file")]
    encoding: EncodingArg,
    /// The member's name as on their ID (required without --file).
    #[arg(long, required_unless_present = "file")]
    name: Option<String>,
    /// Mobile phone, 11 digits (R2: one active member per phone).
    #[arg(long, required_unless_present = "file")]
    phone: Option<String>,
    /// Resident ID number, 18 characters, checksum checked (R1, R2).
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
    /// The store that enrolled them (R33).
    #[arg(long, value_name = "CODE")]
    store: Option<String>,
    /// The staff member who enrolled them.
    #[arg(long, value_name = "CODE")]
    staff: Option<String>,
    /// A qualifying receipt with no member, STORE:RECEIPT (repeatable, R6).
    #[arg(long, value_name = "STORE:RECEIPT", conflicts_with = "file")]
    receipt: Vec<ops::enroll::ReceiptRef>,
    /// Marketing consent: yes or no (no: never on care or birthday lists).
    #[arg(long, value_name = "yes|no")]
    consent: Option<String>,
}

pub(super) fn run(cli: &Cli, a: &EnrollArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let rejects = match &a.file {
        Some(file) => rejects_path(cli, file, &a.rejects, false)?,
        None => None,
    };
    let mut s = open(cli)?;
    if let Some(file) = &a.file {
        let pb = spinner(cli, "enrolling");
        let summary = ops::members::enroll_file(
            &mut s.store,
            &s.program,
            file,
            a.encoding.into(),
            rejects.clone(),
            &s.ctx,
            |n| {
                if let Some(pb) = &pb {
                    pb.set_position(n);
                }
            },
        )?;
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        return print_batch(cli, out, &rejects, &summary);
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
        enrolled_at: s.ctx.today.to_string(),
        consent: a.consent.clone().unwrap_or_default(),
    };
    if !a.receipt.is_empty() || !s.program.enroll.require.is_empty() {
        let done = ops::enroll::enroll_on_receipts(
            &mut s.store,
            &s.program,
            s.version,
            &app,
            &a.receipt,
            &s.ctx,
        )?;
        let printed = if cli.format == Format::Table {
            writeln!(out, "{}", done.member_no).map_err(Into::into)
        } else {
            output::record(out, cli.format, &done)
        };
        return output::committed(out, printed, ExitCode::Done);
    }
    let (member_no, card) = ops::members::enroll_one(&mut s.store, &s.program, &app, &s.ctx)?;
    #[derive(serde::Serialize)]
    struct Enrolled {
        member_no: String,
        card: String,
    }
    let printed = if cli.format == Format::Table {
        writeln!(out, "{member_no}").map_err(Into::into)
    } else {
        output::record(out, cli.format, &Enrolled { member_no, card })
    };
    output::committed(out, printed, ExitCode::Done)
}
