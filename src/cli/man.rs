//! `vipctl man`: the manual pages, generated with clap_mangen from the same
//! command definitions as `--help` (and kept in `man/`).

use super::output::Format;
use super::Cli;
use crate::error::{ExitCode, Usage};
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl man | man -l -
  vipctl man member show | man -l -
  vipctl man --list

The same pages are kept in the man/ directory of the source (man/vipctl.1 and
one per subcommand, such as man/vipctl-member-show.1).";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, as typed (`member show`); none for vipctl(1).
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
    /// List the pages' file names instead of printing one.
    #[arg(long, conflicts_with = "command")]
    list: bool,
}

/// Every manual page, as (file name, roff text): `vipctl.1` and one per
/// subcommand (`vipctl-member-show.1`), the parent before its children.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) {
        let man = clap_mangen::Man::new(cmd.clone())
            .source(concat!("vipctl ", env!("CARGO_PKG_VERSION")))
            .manual("vipctl manual");
        let mut text = Vec::new();
        // Rendering into memory cannot fail.
        let _ = man.render(&mut text);
        out.push((man.get_filename(), text));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out);
        }
    }
    let mut cmd = super::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out);
    out
}

pub(super) fn run(cli: &Cli, a: &ManArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if cli.format == Format::Json {
        return Err(Usage(
            "vipctl man prints manual pages (roff): --format json does not apply".into(),
        )
        .into());
    }
    let pages = pages();
    if a.list {
        for (name, _) in &pages {
            writeln!(out, "{name}")?;
        }
        return Ok(ExitCode::Done);
    }
    let mut name = String::from("vipctl");
    for word in &a.command {
        name.push('-');
        name.push_str(word.trim());
    }
    name.push_str(".1");
    match pages.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => out.write_all(text)?,
        None => {
            return Err(Usage(format!(
                "no manual page for `vipctl {}` ({name}); `vipctl man --list` lists them",
                a.command.join(" ")
            ))
            .into())
        }
    }
    Ok(ExitCode::Done)
}
