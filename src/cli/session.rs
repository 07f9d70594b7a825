//! Opening the database for a command: once, with the program in force
//! parsed once and the context (operator, clock) built from it.

use super::Cli;
use crate::ops::Session;
use crate::store::{Access, OpenOptions, Store};
use anyhow::Result;

/// Opens the database for a command that writes (migrating an older schema
/// first, and saying so).
pub(super) fn open(cli: &Cli) -> Result<Session> {
    open_as(cli, Access::Write)
}

/// Opens the database as `access` says, with the program and context.
pub(super) fn open_as(cli: &Cli, access: Access) -> Result<Session> {
    let store = store(cli, access)?;
    let (version, program) = crate::ops::program::current(&store)?;
    let ctx = cli.ctx(&program)?;
    super::output::show_times_in(program.timezone);
    Ok(Session {
        store,
        program,
        version,
        ctx,
    })
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
            crate::store::display_name(&cli.db),
            st.schema
        );
    }
    if let Some(m) = &st.migrated {
        match &m.copy {
            Some(copy) => stderr_line!(
                "migrating {} from schema v{} to v{}; a copy of the old file is at {}",
                crate::store::display_name(&cli.db),
                m.from,
                m.to,
                copy.display()
            ),
            None => stderr_line!(
                "migrated {} from schema v{} to v{} in one transaction",
                st.path.display(),
                m.from,
                m.to
            ),
        }
    }
    Ok(st)
}

/// For a command that only reads and failed: a note when the database's
/// schema is older than this build's (readers never migrate it).
pub(super) fn old_schema_note(cli: &Cli) -> Option<String> {
    if !cli.command.reads_only() {
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
            crate::store::display_name(&cli.db)
        )
    })
}
