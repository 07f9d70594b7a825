//! Error kinds that callers branch on. Everything else travels as `anyhow::Error`
//! and means "failed" (exit 1). The CLI maps each kind to its exit code once.

use std::fmt;

/// A refusal by a program rule (R2 duplicate ID, R3 staff, R16 not enough points, …):
/// nothing was changed. Exit code 4.
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Refused {}

/// A malformed value given on the command line. Exit code 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Usage {}

/// Shorthand for returning a refusal.
pub fn refused<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(Refused(msg.into()).into())
}

/// Shorthand for returning a usage error.
pub fn usage<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(Usage(msg.into()).into())
}

/// Process exit codes of SPEC.md, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Done = 0,
    Failed = 1,
    Usage = 2,
    Rejects = 3,
    Refused = 4,
}

impl ExitCode {
    /// The exit code an error maps to.
    pub fn of(err: &anyhow::Error) -> ExitCode {
        for cause in err.chain() {
            if cause.is::<Refused>() {
                return ExitCode::Refused;
            }
            if cause.is::<Usage>() {
                return ExitCode::Usage;
            }
        }
        ExitCode::Failed
    }
}
