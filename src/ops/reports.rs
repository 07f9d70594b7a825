//! Reports for analysts and store staff (R31–R34).

use super::Ctx;
use crate::money::format_fen;
use crate::store::{export, programs, Store};
use anyhow::Result;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

/// A share as a decimal with four places ("0.0700"); 0 of 0 is "0.0000".
pub fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "0.0000".into();
    }
    let d = Decimal::from(part) / Decimal::from(whole);
    format!(
        "{:.4}",
        d.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    )
}

/// One row of `report tiers`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TierShare {
    pub tier: String,
    pub name: String,
    pub members: i64,
    pub members_share: String,
    pub spend: String,
    pub spend_share: String,
}

/// `report tiers`: each tier's share of members and of spend (R34), spend
/// over `from..=to` (default: the 365 days ending on the as-of date).
pub fn tiers(
    st: &Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    ctx: &Ctx,
) -> Result<Vec<TierShare>> {
    let (_, _, program) = programs::current(&st.conn)?;
    let to = to.unwrap_or(ctx.today);
    let from = from.unwrap_or_else(|| to.checked_sub_days(Days::new(364)).unwrap_or(to));
    let totals = export::tier_totals(&st.conn, &from.to_string(), &to.to_string())?;
    let all_members: i64 = totals.iter().map(|t| t.1).sum();
    let all_spend: i64 = totals.iter().map(|t| t.2).sum();
    let mut rows: Vec<TierShare> = Vec::new();
    let mut push = |code: &str, name: &str, members: i64, spend: i64| {
        rows.push(TierShare {
            tier: code.to_string(),
            name: name.to_string(),
            members,
            members_share: share(members, all_members),
            spend: format_fen(spend),
            spend_share: share(spend, all_spend),
        });
    };
    for t in &program.tiers.ladder {
        let (m, s) = totals
            .iter()
            .find(|x| x.0 == t.code)
            .map_or((0, 0), |x| (x.1, x.2));
        push(&t.code, &t.name, m, s);
    }
    // Tiers no longer in the program (after `program set`) still count.
    for (code, m, s) in &totals {
        if program.tier(code).is_none() {
            push(code, "", *m, *s);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r34_shares_have_four_decimals() {
        assert_eq!(share(7, 100), "0.0700");
        assert_eq!(share(1, 3), "0.3333");
        assert_eq!(share(2, 3), "0.6667");
        assert_eq!(share(0, 0), "0.0000");
        assert_eq!(share(5, 5), "1.0000");
    }
}
