//! `vipctl staff …`: register and list the staff who serve members (R3, R33).

use super::io::{print_batch, print_done, rejects_path};
use super::output::Records;
use super::session::{open, open_as};
use super::values::EncodingArg;
use super::Cli;
use crate::error::{ExitCode, Usage};
use crate::ops;
use crate::store::Access;
use anyhow::Result;
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

pub(super) const HELP: &str = "Examples:
  vipctl staff add S001 --name 王芳 --store BJ01
  vipctl staff add --file fixtures/staff.csv
  vipctl staff list
  vipctl staff leave S002 --handover S001";

#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Register one staff member, or many from a CSV file.
    #[command(after_help = "Examples:
  vipctl staff add S001 --name 王芳 --phone 13912345678 --store BJ01
  vipctl staff add --file staff.csv

File columns: code,name,phone,id_number,store")]
    Add {
        /// The staff code (required without --file).
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        code: Option<String>,
        /// Full name (required without --file).
        #[arg(long, required_unless_present = "file")]
        name: Option<String>,
        /// Mobile phone (staff cannot enroll themselves as members, R3).
        #[arg(long)]
        phone: Option<String>,
        /// Resident ID number (staff cannot enroll themselves as members, R3).
        #[arg(long)]
        id_number: Option<String>,
        /// The store they work in.
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
        #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
        encoding: EncodingArg,
    },
    /// List the staff (name, phone and ID number masked unless --include-pii).
    #[command(after_help = "Example:
  vipctl staff list --format csv")]
    List {
        /// Unmasked name, phone and ID number (recorded with the operator, R35).
        #[arg(long)]
        include_pii: bool,
    },
    /// A staff member leaves; their members move to another (R33, 谁开发谁负责).
    #[command(after_help = "Examples:
  vipctl staff leave S002 --handover S001
  vipctl --as-of 2026-11-30 staff leave S002 --handover S001 --format json

The members S002 is responsible for become S001's, each with a row in their
staff history (member show). Past receipts keep S002, so reports keep
attributing past sales to S002. A receipt dated on or after the day S002
left that names S002 is kept and flagged (receipts.staff_flag = 'left'):
nobody is credited with that sale. Refused (exit 4): an unregistered code,
a staff member who left already, or a --handover who left or is unknown.")]
    Leave {
        /// The staff code of who leaves.
        code: String,
        /// The staff code of who takes their members over.
        #[arg(long, value_name = "TO")]
        handover: String,
    },
}

pub(super) fn run(cli: &Cli, cmd: &StaffCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        StaffCmd::Leave { code, handover } => {
            let mut s = open(cli)?;
            let done = ops::lifecycle::staff_leave(&mut s.store, code, handover, &s.ctx)?;
            print_done(cli, out, &done)
        }
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
            let mut s = open(cli)?;
            if let Some(file) = file {
                let summary = ops::staff::add_file(
                    &mut s.store,
                    file,
                    (*encoding).into(),
                    rejects.clone(),
                    &s.ctx,
                )?;
                return print_batch(cli, out, &rejects, &summary);
            }
            let staff = ops::staff::validate(&ops::staff::StaffFields {
                code: code.as_deref().unwrap_or_default(),
                name: name.as_deref().unwrap_or_default(),
                phone: phone.as_deref().unwrap_or_default(),
                id_number: id_number.as_deref().unwrap_or_default(),
                store: store.as_deref().unwrap_or_default(),
            })
            .map_err(Usage)?;
            ops::staff::add(&mut s.store, &staff, &s.ctx)?;
            print_done(cli, out, &staff)
        }
        StaffCmd::List { include_pii } => {
            let s = open_as(cli, Access::ReadJournal)?;
            let staff = ops::staff::list(&s.store, *include_pii, &s.ctx)?;
            let mut rec = Records::new(
                out,
                cli.format,
                &["code", "name", "phone", "id_number", "store"],
            );
            for s in staff {
                rec.push(&s)?;
            }
            rec.finish()?;
            Ok(ExitCode::Done)
        }
    }
}
