//! Members' lifecycle as pure rules: when two records may be merged.

/// What the merge rule looks at, read from the two records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeCheck {
    /// KEEP is active (not closed, not erased).
    pub keep_active: bool,
    /// KEEP's data was erased.
    pub keep_erased: bool,
    /// The member DROP was already merged into, if any.
    pub drop_merged_into: Option<String>,
    /// Both records carry the same ID number (R2: one person, one card).
    pub same_id: bool,
    /// `--force` was given with a reason.
    pub forced: bool,
}

/// Whether KEEP may take over DROP. Two records of one person share an ID
/// number: records with different ones are two people unless the operator
/// forces it with a reason. KEEP must stay an active member holding its own
/// phone and ID number, so that R2 holds after the merge; a record merged
/// once is not merged again.
pub fn merge_allowed(c: &MergeCheck) -> Result<(), String> {
    if c.keep_erased {
        return Err("KEEP's data was erased; merge into a member who is still here".into());
    }
    if !c.keep_active {
        return Err("KEEP is closed; merge into an active member (R2)".into());
    }
    if let Some(into) = &c.drop_merged_into {
        return Err(format!("DROP was already merged into {into}"));
    }
    if !c.same_id && !c.forced {
        return Err(
            "the two records have different ID numbers, so they may be two people (R2): check, then give --force --reason TEXT"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> MergeCheck {
        MergeCheck {
            keep_active: true,
            same_id: true,
            ..MergeCheck::default()
        }
    }

    #[test]
    fn r2_same_id_merges() {
        assert_eq!(merge_allowed(&ok()), Ok(()));
    }

    #[test]
    fn r2_different_ids_need_force() {
        let c = MergeCheck {
            same_id: false,
            ..ok()
        };
        assert!(merge_allowed(&c).unwrap_err().contains("--force"));
        let forced = MergeCheck { forced: true, ..c };
        assert_eq!(merge_allowed(&forced), Ok(()));
    }

    #[test]
    fn closed_keep_or_merged_drop_is_refused_even_forced() {
        let c = MergeCheck {
            keep_active: false,
            forced: true,
            ..ok()
        };
        assert!(merge_allowed(&c).unwrap_err().contains("closed"));
        let c = MergeCheck {
            drop_merged_into: Some("M00000001".into()),
            forced: true,
            ..ok()
        };
        assert!(merge_allowed(&c).unwrap_err().contains("M00000001"));
        let c = MergeCheck {
            keep_erased: true,
            forced: true,
            ..ok()
        };
        assert!(merge_allowed(&c).unwrap_err().contains("erased"));
    }
}
