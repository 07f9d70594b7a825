//! Step 4, after a sale: R24. A purchase that meets a higher tier's
//! condition lifts the member at once, judged as of the receipt's date;
//! later receipts earn at the new tier's multiplier. Members who cannot
//! reach a higher tier even on their lifetime sales are skipped without a
//! query, and so are members whose last exact check left a shortfall the
//! sales since have not covered.

use super::pending::Pending;
use super::receipt::Run;
use super::resolve::MemberInfo;
use crate::program::Metric;
use crate::rules::tiers;
use crate::store::Conn;
use crate::store::{members, receipts};
use anyhow::Result;
use chrono::{Datelike, NaiveDate};

/// A sale just imported, as the R24 check sees it.
pub(super) struct Sale<'a> {
    pub fen: i64,
    pub points: i64,
    pub on: NaiveDate,
    pub at: &'a str,
    pub reference: &'a str,
}

/// What the last exact R24 check of a member left to reach a higher tier.
#[derive(Debug, Clone, Copy)]
pub(super) struct Headroom {
    /// The date it was measured as of. It holds for receipts on that date or
    /// later in the same year (`prev-year` windows move at the year's turn),
    /// and only when no activity was dated after it (else a later window
    /// takes in days the measure left out).
    on: NaiveDate,
    /// Spend (fen), points and purchases still needed.
    need: [i64; 3],
}

impl Run<'_> {
    /// R24 for the member of a sale just imported.
    pub(super) fn upgrade_on_purchase(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        m: &MemberInfo,
        sale: &Sale,
    ) -> Result<()> {
        let on = sale.on;
        let ladder = &self.program.tiers.ladder;
        let current = m.tier.get();
        if m.pinned || current + 1 >= ladder.len() {
            return Ok(());
        }
        if let Some(mut h) = m.headroom.get() {
            if on >= h.on && on.year() == h.on.year() {
                h.need = [
                    h.need[0].saturating_sub(sale.fen),
                    h.need[1].saturating_sub(sale.points),
                    h.need[2].saturating_sub(1),
                ];
                m.headroom.set(Some(h));
                if h.need.iter().all(|&n| n > 0) {
                    return Ok(());
                }
            }
        }
        let sales = m.sales.get();
        let reachable = ladder[current + 1..]
            .iter()
            .flat_map(|t| t.conditions())
            .any(|c| {
                let bound = match c.metric {
                    Metric::Spend => sales.spend_fen,
                    Metric::Points => sales.points,
                    Metric::Purchases => sales.purchases,
                };
                tiers::reaches(c.metric, bound, c.min.0)
            });
        if !reachable {
            return Ok(());
        }
        let measures = tiers::measures(&self.program.tiers);
        let from = measures
            .iter()
            .map(|x| tiers::window_range(x.window, on).0)
            .min()
            .flatten();
        let mut days = receipts::member_days(conn, m.id, from)?;
        days.extend(pending.batch.pending_days(m.id).iter().copied());
        let values = |x| tiers::value(x, on, &days);
        let (earned, reason) = tiers::earned(&self.program.tiers, &values);
        let next = tiers::after_purchase(current, earned, m.pinned);
        let latest = days.iter().map(|d| d.date).max();
        m.headroom
            .set(latest.is_none_or(|d| d <= on).then(|| Headroom {
                on,
                need: tiers::headroom(&self.program.tiers, next, &values),
            }));
        if next > current {
            let (from_code, to_code) = (&ladder[current].code, &ladder[next].code);
            pending.batch.set_tier(
                on,
                &members::NewTierChange {
                    member_id: m.id,
                    at: sale.at,
                    from: Some(from_code),
                    to: to_code,
                    reason: &format!("purchase {} (R24): {reason}", sale.reference),
                    operator: &self.ctx.operator,
                },
            );
            m.tier.set(next);
        }
        Ok(())
    }
}
