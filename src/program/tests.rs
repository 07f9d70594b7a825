use super::*;

#[test]
fn the_default_program_is_valid() {
    let p = Program::default_program();
    assert_eq!(p.lowest_tier().code, "normal");
    assert_eq!(p.tiers.ladder.len(), 2);
    let text = explain(&p);
    assert!(
        text.lines().any(
            |l| l.starts_with("  - base rate: 1 point per 1 yuan, on money paid, rounded down")
        ),
        "{text}"
    );
}

#[test]
fn returns_section_refund_points_used() {
    let base = "name = \"P\"\ntimezone = \"Asia/Shanghai\"\n";
    assert!(parse(base).unwrap().returns.refund_points_used);
    let off = format!("{base}[returns]\nrefund_points_used = false\n");
    let p = parse(&off).unwrap();
    assert!(!p.returns.refund_points_used);
    assert!(explain(&p).contains("are not given back"));
    let bad = format!("{base}[returns]\nrefund_points = false\n");
    let e = parse(&bad).unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert_eq!(e.key.as_deref(), Some("refund_points"), "{e}");
}

#[test]
fn unknown_key_is_refused_with_line_and_key() {
    let e = parse("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_pont = \"1\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert_eq!(e.key.as_deref(), Some("yuan_per_pont"), "{e}");
}

#[test]
fn zero_negative_and_non_numeric_rates_are_refused() {
    for bad in ["\"0\"", "\"-1\"", "\"abc\"", "1.5"] {
        let src = format!(
            "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n\n[earn]\nbirthday_multiplier = {bad}\n"
        );
        let e = parse(&src).unwrap_err();
        assert_eq!(e.line, Some(5), "{bad}: {e}");
    }
}

#[test]
fn post_parse_errors_name_the_table_line() {
    let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\n[[tiers.tier]]\ncode = \"a\"\nname = \"B\"\n";
    let e = parse(src).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("tiers.tier.code"));
    assert!(e.line.is_some_and(|l| l >= 6), "{e}");
}

#[test]
fn lowest_tier_has_no_conditions() {
    let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\nany = [{ metric = \"spend\", window = \"year\", min = \"1\" }]\n";
    assert!(parse(src).unwrap_err().message.contains("lowest"));
}

#[test]
fn windows_parse() {
    assert_eq!("182d".parse::<Window>(), Ok(Window::Days(182)));
    assert_eq!("prev-year".parse::<Window>(), Ok(Window::PrevYear));
    assert!("0d".parse::<Window>().is_err());
    assert!("weekly".parse::<Window>().is_err());
}

#[test]
fn bands_are_sorted_highest_first() {
    let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\npercent = \"2\"\n[[earn.band]]\nmin_paid_ratio = \"0.5\"\npercent = \"5\"\n[[earn.band]]\nmin_paid_ratio = \"0.8\"\npercent = \"8.8\"\n";
    let p = parse(src).unwrap();
    assert_eq!(p.earn.bands[0].min_paid_ratio, Decimal::new(8, 1));
}

const BASE: &str = "name = \"P\"\ntimezone = \"Asia/Shanghai\"\n";

fn err_of(extra: &str) -> ProgramError {
    parse(&format!("{BASE}{extra}")).unwrap_err()
}

#[test]
fn new_settings_parse_and_are_explained() {
    let src = format!(
        "{BASE}[earn]\nyuan_per_point = \"100\"\nmin_order = \"100\"\ncarry_within_day = true\n\
[[earn.campaign]]\nname = \"店庆\"\nfrom = \"2026-10-01\"\nto = \"2026-10-07\"\nmultiplier = \"2\"\nbonus = {{ min_points = 200, points = 10 }}\n\
[[earn.campaign]]\nname = \"服装节\"\nweekdays = [\"sat\", \"sun\"]\nmonths = [3]\ncategories = [\"clothing\"]\nmultiplier = \"3\"\n\
[redeem]\npoints = 1500\nyuan = \"100\"\n[redeem.ladder]\nfirst_points = 1000\nfirst_yuan = \"200\"\nstep_points = 500\nstep_yuan = \"200\"\n\
[expiry]\npolicy = \"per-lot\"\ndays = 90\n\
[enroll]\nmin_day = \"300\"\n[[enroll.direct]]\ntier = \"B\"\nmin_day = \"3000\"\n\
[care]\nfollowup_days = [1, 3, 5]\nfollowup_every_purchase = true\nat_risk_days = 60\ndormant_days = 120\n\
[[tiers.tier]]\ncode = \"A\"\nname = \"A\"\n[[tiers.tier]]\ncode = \"B\"\nname = \"B\"\nredeem_points = 1000\nredeem_yuan = \"100\"\n\
any = [ {{ metric = \"spend\", window = \"365d\", min = \"5000\" }}, {{ all = [ {{ metric = \"spend\", window = \"year\", min = \"3000\" }}, {{ metric = \"purchases\", window = \"year\", min = \"4\" }} ] }} ]\n\
[[tiers.tier]]\ncode = \"C\"\nname = \"C\"\ninvitation = true\nany = [ {{ metric = \"spend\", window = \"365d\", min = \"40000\" }} ]\n"
    );
    let p = parse(&src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.earn.min_order_fen, Some(10_000));
    assert!(p.earn.carry_within_day);
    assert_eq!(p.earn.campaigns.len(), 2);
    assert_eq!(p.redeem.value.fen_for(1500), 10_000);
    assert_eq!(p.redeem.value.fen_for(15), 100);
    assert_eq!(
        p.redeem.value.fen_for(1),
        6,
        "1/15 yuan, rounded down to the fen"
    );
    assert_eq!(p.expiry.lifetime(), Span::Days(90));
    assert_eq!(p.enroll.require.min_day_fen, Some(30_000));
    assert_eq!(p.enroll.direct[0].tier, "B");
    assert_eq!(p.care.followup_days, vec![1, 3, 5]);
    assert_eq!(p.tiers.ladder[1].all_of.len(), 1);
    assert!(p.tiers.ladder[2].invitation);
    assert_eq!(p.redeem_value("B").fen_for(1000), 10_000);
    assert_eq!(p.redeem_value("A").fen_for(1500), 10_000);
    let text = explain(&p);
    for words in [
        "paying less than 100.00 yuan earns no points",
        "fractions of a point each leaves are carried",
        "campaign \"店庆\": from 2026-10-01 to 2026-10-07: points × 2",
        "gets 10 bonus points",
        "on Saturday, Sunday, in months 3: lines of clothing earn × 3",
        "1500 points offset 100 yuan, exactly",
        "gift ladder: 1000 points for a gift listed at up to 200 yuan, then every further 500 points another 200 yuan",
        "expires 90 days after it was earned",
        "at least 300.00 yuan paid on one day",
        "the new member starts in B",
        "follow-up call 1, 3, 5 day(s) after every purchase",
        "at risk after 60 days without a purchase, dormant after 120",
        "all of (spend ≥ 3000 yuan this calendar year and purchases ≥ 4 this calendar year)",
        "by invitation only",
        "its members redeem at 1000 points = 100 yuan",
    ] {
        assert!(text.contains(words), "{words:?} not in:\n{text}");
    }
}

#[test]
fn a_program_of_today_means_the_same() {
    let p = Program::default_program();
    assert_eq!(p.redeem.value, PointValue::ONE_YUAN);
    assert_eq!(p.care, Care::default());
    assert!(p.enroll.require.is_empty() && p.enroll.direct.is_empty());
    assert!(!p.earn.carry_within_day && p.earn.min_order_fen.is_none());
    assert!(explain(&p).contains("1 point offsets 1 yuan"));
    assert!(explain(&p).contains("anyone may enrol"));
}

#[test]
fn malformed_new_settings_are_refused_with_line_and_key() {
    let cases: &[(&str, usize, &str)] = &[
        ("[earn]\nmin_order = \"1.234\"\n", 4, "earn.min_order"),
        ("[earn]\ncarry_within_day = \"yes\"\n", 4, "carry_within_day"),
        (
            "[[earn.campaign]]\nname = \"x\"\nfrom = \"2026-13-01\"\nmultiplier = \"2\"\n",
            5,
            "from",
        ),
        (
            "[[earn.campaign]]\nname = \"x\"\nfrom = \"2026-10-08\"\nto = \"2026-10-01\"\nmultiplier = \"2\"\n",
            6,
            "earn.campaign.to",
        ),
        ("[[earn.campaign]]\nname = \"x\"\n", 3, "earn.campaign"),
        ("[redeem]\npoints = 1500\n", 4, "redeem.points"),
        (
            "[redeem]\nyuan_per_point = \"1\"\npoints = 1500\nyuan = \"100\"\n",
            5,
            "redeem.points",
        ),
        (
            "[redeem.ladder]\nfirst_points = 0\nfirst_yuan = \"200\"\nstep_points = 500\nstep_yuan = \"200\"\n",
            4,
            "redeem.ladder.first_points",
        ),
        ("[expiry]\npolicy = \"per-lot\"\nmonths = 3\ndays = 90\n", 6, "expiry.days"),
        ("[enroll]\ntotal_min = \"1500\"\n", 4, "enroll.total_min"),
        ("[enroll]\nmin_dya = \"300\"\n", 4, "min_dya"),
        (
            "[[enroll.direct]]\ntier = \"gold\"\nmin_day = \"3000\"\n",
            4,
            "enroll.direct.tier",
        ),
        ("[care]\nat_risk_days = 200\n", 3, "care.dormant_days"),
        ("[care]\nfollowup_days = [0]\n", 4, "care.followup_days"),
        // The care plan's calls come in order (R31): a list out of order or
        // repeated is refused, not silently sorted.
        ("[care]\nfollowup_days = [5, 3]\n", 4, "care.followup_days"),
        ("[care]\nfollowup_days = [3, 3]\n", 4, "care.followup_days"),
        // R27: points that never expire have no lifetime.
        ("[expiry]\npolicy = \"never\"\ndays = 30\n", 5, "expiry.days"),
        (
            "[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\ncall_every_days = 4294967295\n",
            3,
            "tiers.tier.call_every_days",
        ),
        (
            "[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\n[[tiers.tier]]\ncode = \"b\"\nname = \"B\"\nany = [{ metric = \"spend\", window = \"year\" }]\n",
            9,
            "tiers.tier.any",
        ),
        (
            "[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\ninvitation = true\n",
            6,
            "tiers.tier.invitation",
        ),
    ];
    for (extra, line, key) in cases {
        let e = err_of(extra);
        assert_eq!(e.key.as_deref(), Some(*key), "{extra}: {e}");
        assert_eq!(e.line, Some(*line), "{extra}: {e}");
    }
}
