//! Step 4, after a sale: R24. A purchase that meets a higher tier's
//! condition lifts the member at once, judged as of the receipt's date;
//! later receipts earn at the new tier's multiplier. Members who cannot
//! reach a higher tier even on their lifetime sales are skipped without a
//! query, and so are members whose last exact check left a shortfall the
//! sales since have not covered.

use super::parse::{LineRejection, Receipt};
use super::pending::Pending;
use super::receipt::Run;
use super::resolve::MemberInfo;
use crate::program::Metric;
use crate::rules::tiers;
use crate::rules::time;
use crate::store::Conn;
use crate::store::{members, Totals};
use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashMap as HashMap;

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
    /// Reads at once the stored activity of the members of a window's new
    /// sales whose R24 check may need it: members not pinned, below the
    /// top tier, with no shortfall known, whose lifetime sales with the
    /// window's reach a higher tier's bound (the window's points are not
    /// known yet: any sale may reach a bound of points). On PostgreSQL one
    /// round trip, not one per member; what is read is kept for the window
    /// only.
    pub(super) fn read_activity(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        window: &[Result<Receipt, LineRejection>],
    ) -> Result<()> {
        pending.batch.forget_stored_days();
        // Per member: (spend, purchases) of the window's new sales, and the
        // first day a measure as of one of them takes in.
        let mut sales: HashMap<i64, (&MemberInfo, Totals, Option<NaiveDate>)> = HashMap::default();
        let top = self.program.tiers.ladder.len();
        for (r, m) in self.new_member_sales(pending, window) {
            if m.pinned || m.tier.get() + 1 >= top || m.headroom.get().is_some() {
                continue;
            }
            let fen = r
                .lines
                .iter()
                .fold(0i64, |sum, l| sum.saturating_add(l.amount_fen.max(0)));
            let from = self.days_from(time::local_date(r.moment, self.program.timezone));
            let (_, sum, first) = sales.entry(m.id).or_insert((m, Totals::default(), from));
            sum.spend_fen = sum.spend_fen.saturating_add(fen);
            sum.purchases += 1;
            *first = (*first).min(from);
        }
        let mut ids = Vec::new();
        let mut from: Option<Option<NaiveDate>> = None;
        for (id, (m, window, first)) in &sales {
            let bound = m.sales.get();
            let upper = Totals {
                spend_fen: bound.spend_fen.saturating_add(window.spend_fen),
                points: i64::MAX,
                purchases: bound.purchases.saturating_add(window.purchases),
            };
            if self.reachable(m, upper) {
                ids.push(*id);
                from = Some(from.map_or(*first, |f| f.min(*first)));
            }
        }
        let Some(from) = from else {
            return Ok(());
        };
        ids.sort_unstable();
        pending.batch.read_stored_days(conn, &ids, from)
    }

    /// Whether `sales` (an upper bound on the member's figures in any
    /// window) reach a higher tier's bound than the member's: if not, no
    /// window's figure can (R24 skips them without a query).
    fn reachable(&self, m: &MemberInfo, sales: Totals) -> bool {
        let ladder = &self.program.tiers.ladder;
        ladder[m.tier.get() + 1..]
            .iter()
            .flat_map(|t| t.conditions())
            .any(|c| {
                let bound = match c.metric {
                    Metric::Spend => sales.spend_fen,
                    Metric::Points => sales.points,
                    Metric::Purchases => sales.purchases,
                };
                tiers::reaches(c.metric, bound, c.min.0)
            })
    }

    /// The first day any tier measure as of `on` takes in (`None`: every day).
    fn days_from(&self, on: NaiveDate) -> Option<NaiveDate> {
        tiers::measures(&self.program.tiers)
            .iter()
            .map(|x| tiers::window_range(x.window, on).0)
            .min()
            .flatten()
    }

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
        if !self.reachable(m, m.sales.get()) {
            return Ok(());
        }
        let days = pending.batch.activity(conn, m.id, self.days_from(on))?;
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
