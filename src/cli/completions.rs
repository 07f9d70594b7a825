//! `vipctl completions`: print a shell completion script.

use super::Cli;
use crate::error::ExitCode;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl completions bash > /etc/bash_completion.d/vipctl
  vipctl completions zsh > ~/.zfunc/_vipctl";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    shell: clap_complete::Shell,
}

pub(super) fn run(cli: &Cli, a: &CompletionsArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if cli.format == super::output::Format::Json {
        return Err(crate::error::Usage(
            "vipctl completions prints a shell script: --format json does not apply".into(),
        )
        .into());
    }
    // Generated into memory first: clap_complete panics when its
    // writer fails, and `vipctl completions bash | head` must not.
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut super::command(), "vipctl", &mut script);
    out.write_all(&script)?;
    Ok(ExitCode::Done)
}
