//! The program in plain words, for `program check` and `program show --explain`.

use super::*;
use std::fmt::Write as _;

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The program in plain words, for `program check` and `program show --explain`.
pub fn explain(p: &Program) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Program: {} (time zone {})", p.name, p.timezone);
    let _ = writeln!(s, "Earning (R7–R15):");
    let _ = writeln!(
        s,
        "  - base rate: {}, on money paid, rounded down per receipt and rate group",
        p.earn.base_rate
    );
    if !p.earn.no_points_categories.is_empty() {
        let _ = writeln!(
            s,
            "  - no points for: {}",
            p.earn.no_points_categories.join(", ")
        );
    }
    for c in &p.earn.categories {
        let _ = writeln!(s, "  - category {}: {}", c.name, c.rate);
    }
    for b in &p.earn.bands {
        let _ = writeln!(
            s,
            "  - paid ≥ {}% of list price: {}",
            b.min_paid_ratio * Decimal::ONE_HUNDRED,
            b.rate
        );
    }
    if let Some(m) = p.earn.birthday_multiplier {
        let _ = writeln!(s, "  - on the member's birthday: points × {m}");
    }
    for d in &p.earn.member_days {
        let months = if d.months.is_empty() {
            "every month".to_string()
        } else {
            format!(
                "in months {}",
                d.months
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            s,
            "  - member day every {} {months}: points × {}",
            weekday_name(d.weekday),
            d.multiplier
        );
    }
    if p.earn.birthday_multiplier.is_some() || !p.earn.member_days.is_empty() {
        let _ = writeln!(
            s,
            "  - when several promotions apply: {}",
            if p.earn.stack {
                "they multiply together"
            } else {
                "the highest counts"
            }
        );
    }
    if let Some(b) = p.earn.bonus {
        let _ = writeln!(
            s,
            "  - a receipt earning at least {} points gets {} bonus points",
            b.min_points, b.points
        );
    }
    if let Some(fen) = p.earn.min_order_fen {
        let _ = writeln!(
            s,
            "  - a receipt paying less than {} yuan earns no points at all",
            crate::money::format_fen(fen)
        );
    }
    if p.earn.carry_within_day {
        let _ = writeln!(
            s,
            "  - receipts of one member on one day add up (多张可累计): the fractions of a point each leaves are carried to the next receipt that day, so the day earns what its total earns, never less than each receipt alone"
        );
    }
    for c in &p.earn.campaigns {
        let _ = writeln!(s, "  - campaign \"{}\": {}", c.name, campaign_words(c));
    }
    if p.earn.pending_days > 0 {
        let n = p.earn.pending_days;
        let _ = writeln!(
            s,
            "  - points earned on a receipt are pending for {n} day{}: usable from the receipt's date + {n} (a receipt of 1 March releases on {}); a return before then takes them back with no debt; redemptions and points_used cannot use them; their expiry counts from the day they release",
            if n == 1 { "" } else { "s" },
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
                .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(n))))
                .map_or_else(String::new, |d| d.format("%-d %B").to_string())
        );
    }
    let _ = writeln!(s, "Using points (R16):");
    let _ = writeln!(s, "  - {}", value_words(p.redeem.value));
    for r in &p.redeem.rewards {
        let _ = writeln!(
            s,
            "  - reward {} \"{}\": {} points",
            r.code, r.name, r.points
        );
    }
    if let Some(l) = p.redeem.ladder {
        let _ = writeln!(
            s,
            "  - gift ladder: {} points for a gift listed at up to {} yuan, then every further {} points another {} yuan (e.g. {} points: up to {} yuan)",
            l.first_points,
            l.first_yuan,
            l.step_points,
            l.step_yuan,
            l.first_points + l.step_points,
            l.first_yuan + l.step_yuan,
        );
    }
    let _ = writeln!(s, "Returns (R19, R20):");
    let _ = writeln!(
        s,
        "  - a return takes back the points its goods earned: first what is left of them, then what was spent (owed); what already expired is not taken again"
    );
    if p.returns.refund_points_used {
        let _ = writeln!(
            s,
            "  - points used on the receipt come back in proportion to the money returned (rounded down; all of them on a full return), as new points that expire like any others"
        );
    } else {
        let _ = writeln!(
            s,
            "  - points used on the receipt are not given back when goods are returned"
        );
    }
    let _ = writeln!(s, "  - gifts taken for points are final (R19)");
    let _ = writeln!(s, "Expiry (R27–R30):");
    let _ = match p.expiry.policy {
        ExpiryPolicy::CalendarYear => writeln!(
            s,
            "  - points expire at the end of the calendar year they were earned in{}",
            if p.expiry.dec31_rolls_over {
                "; points earned on 31 December count for the next year"
            } else {
                ""
            }
        ),
        ExpiryPolicy::Inactivity => writeln!(
            s,
            "  - all points lapse after {} without a purchase",
            p.expiry.lifetime()
        ),
        ExpiryPolicy::PerLot => writeln!(
            s,
            "  - each lot of points expires {} after it was earned",
            p.expiry.lifetime()
        ),
        ExpiryPolicy::Never => writeln!(s, "  - points never expire"),
    };
    let _ = writeln!(
        s,
        "Tiers (R22–R26), lowest first; downgrade: {}:",
        match p.tiers.downgrade {
            Downgrade::ToEarned => "straight to the tier earned",
            Downgrade::OneStep => "one step at a time",
            Downgrade::Never => "never",
        }
    );
    for (i, t) in p.tiers.ladder.iter().enumerate() {
        let mut line = format!("  - {} \"{}\"", t.code, t.name);
        if !t.has_conditions() {
            if i == 0 {
                line.push_str(": everyone");
            } else {
                line.push_str(": only by `member pin-tier` (R26)");
            }
        } else {
            let mut conds: Vec<String> = t.any.iter().map(condition_words).collect();
            conds.extend(t.all_of.iter().map(|g| {
                format!(
                    "all of ({})",
                    g.iter()
                        .map(condition_words)
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            }));
            let _ = write!(line, ": {}", conds.join(", or "));
            if t.invitation {
                line.push_str(
                    "; by invitation only: members who qualify are listed by `report candidates` and reach it only by `member pin-tier`",
                );
            }
        }
        if let Some(v) = t.redeem_value {
            let _ = write!(line, "; its members redeem at {v}");
        }
        if t.earn_multiplier != Decimal::ONE {
            let _ = write!(line, "; earns × {}", t.earn_multiplier);
        }
        if let Some(d) = t.discount {
            let _ = write!(
                line,
                "; pays {}% of list price",
                (d * Decimal::ONE_HUNDRED).normalize()
            );
        }
        if let Some(n) = t.call_every_days {
            let _ = write!(line, "; called every {n} days");
        }
        if let Some(n) = t.keep_days {
            let _ = write!(line, "; kept at least {n} days after reaching it");
        }
        let _ = writeln!(s, "{line}");
    }
    enroll_words(&mut s, p);
    care_words(&mut s, p);
    s
}

fn condition_words(c: &Condition) -> String {
    let what = match c.metric {
        Metric::Spend => format!("spend ≥ {} yuan", c.min.0),
        Metric::Points => format!("points earned ≥ {}", c.min.0),
        Metric::Purchases => format!("purchases ≥ {}", c.min.0),
    };
    format!("{what} {}", c.window.in_words())
}

fn value_words(v: PointValue) -> String {
    if v.points == 1 {
        format!("1 point offsets {} yuan", v.yuan)
    } else {
        format!(
            "{} points offset {} yuan, exactly (fewer points are worth their share, rounded down to the fen)",
            v.points, v.yuan
        )
    }
}

fn campaign_words(c: &Campaign) -> String {
    let mut when = Vec::new();
    match (c.from, c.to) {
        (Some(f), Some(t)) => when.push(format!("from {f} to {t}")),
        (Some(f), None) => when.push(format!("from {f} on")),
        (None, Some(t)) => when.push(format!("until {t}")),
        (None, None) => {}
    }
    if !c.weekdays.is_empty() {
        when.push(format!(
            "on {}",
            c.weekdays
                .iter()
                .map(|w| weekday_name(*w))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !c.months.is_empty() {
        when.push(format!(
            "in months {}",
            c.months
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let when = if when.is_empty() {
        "every day".to_string()
    } else {
        when.join(", ")
    };
    let mut what = Vec::new();
    if let Some(m) = c.multiplier {
        if c.categories.is_empty() {
            what.push(format!(
                "points × {m} (a promotion: with others the highest counts unless they stack)"
            ));
        } else {
            what.push(format!("lines of {} earn × {m}", c.categories.join(", ")));
        }
    }
    if let Some(b) = c.bonus {
        what.push(format!(
            "a receipt earning at least {} points gets {} bonus points",
            b.min_points, b.points
        ));
    }
    format!("{when}: {}", what.join("; "))
}

fn qualifying_words(q: &Qualifying) -> String {
    let yuan = crate::money::format_fen;
    let mut parts = Vec::new();
    if let Some(f) = q.min_receipt_fen {
        parts.push(format!("one receipt of at least {} yuan", yuan(f)));
    }
    if let Some(f) = q.min_day_fen {
        parts.push(format!(
            "at least {} yuan paid on one day (receipts add up)",
            yuan(f)
        ));
    }
    if let Some(f) = q.first_min_fen {
        parts.push(format!("a first purchase of at least {} yuan", yuan(f)));
    }
    if let (Some(f), Some(w)) = (q.total_min_fen, q.within) {
        parts.push(format!(
            "at least {} yuan in all within {w} of the first purchase (the day {w} later included)",
            yuan(f)
        ));
    }
    parts.join(" and ")
}

fn enroll_words(s: &mut String, p: &Program) {
    let _ = writeln!(s, "Enrolment (R1–R6):");
    if p.enroll.require.is_empty() {
        let _ = writeln!(
            s,
            "  - anyone may enrol, with or without a purchase (不限金额)"
        );
    } else {
        let _ = writeln!(
            s,
            "  - enrolment needs {}, shown by the person's own receipts (`enroll --receipt STORE:RECEIPT`, receipts with no member); below that it is refused, naming the shortfall; the receipts then belong to the new member and earn as of their own time",
            qualifying_words(&p.enroll.require)
        );
        let when = if p.enroll.require.within.is_some() {
            "no receipt dated after the enrolment, and the enrolment within that span of the first purchase"
        } else {
            "every receipt of the enrolment's own day, none after its moment (当天)"
        };
        let closed = if p.expiry.policy == ExpiryPolicy::CalendarYear {
            "; a receipt whose points would fall in a year closed by year-end-reset is refused"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  - the receipts count only when dated so: {when}{closed}"
        );
    }
    for d in &p.enroll.direct {
        let name = p.tier(&d.tier).map_or(d.tier.as_str(), |t| t.name.as_str());
        let _ = writeln!(
            s,
            "  - with {}, the new member starts in {} \"{name}\" directly",
            qualifying_words(&d.when),
            d.tier
        );
    }
}

fn care_words(s: &mut String, p: &Program) {
    let c = &p.care;
    let _ = writeln!(s, "Care (R31, R32):");
    let days = c
        .followup_days
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        s,
        "  - follow-up call {days} day(s) after {} purchase; listed from that day until the member is contacted (`member contacted`)",
        if c.followup_every_purchase {
            "every"
        } else {
            "the first"
        }
    );
    let _ = writeln!(
        s,
        "  - at risk after {} days without a purchase, dormant after {}; listed from that day until contacted",
        c.at_risk_days, c.dormant_days
    );
}
