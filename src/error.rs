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

/// Why one row or one command's input was turned away. The kind, never the
/// wording of the reason, decides the exit code (see [`ExitCode::of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// A malformed field or value. Exit code 2 for a single command.
    Invalid,
    /// The member reference matches nobody. Exit code 1.
    UnknownMember,
    /// Refused by a rule (R5 blocked card, R11 points, a conflicting receipt). Exit code 4.
    Refused,
}

/// A typed rejection: the one channel batch rows and single commands use to say
/// "not done, and why". A batch writes `reason` to its rejects file; a single
/// command returns it as an error and exits with the kind's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub kind: RejectKind,
    pub reason: String,
}

impl Rejection {
    pub fn invalid(reason: impl Into<String>) -> Self {
        Rejection {
            kind: RejectKind::Invalid,
            reason: reason.into(),
        }
    }
    pub fn unknown_member(reason: impl Into<String>) -> Self {
        Rejection {
            kind: RejectKind::UnknownMember,
            reason: reason.into(),
        }
    }
    pub fn refused(reason: impl Into<String>) -> Self {
        Rejection {
            kind: RejectKind::Refused,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}
impl std::error::Error for Rejection {}

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
            if let Some(r) = cause.downcast_ref::<Rejection>() {
                return match r.kind {
                    RejectKind::Invalid => ExitCode::Usage,
                    RejectKind::UnknownMember => ExitCode::Failed,
                    RejectKind::Refused => ExitCode::Refused,
                };
            }
        }
        ExitCode::Failed
    }
}
