//! Member identity (R1, R4): phone numbers, PRC resident ID numbers, names.

use chrono::NaiveDate;

/// A mainland mobile number, `1[3-9]` and nine more digits (R1).
pub fn check_phone(phone: &str) -> Result<(), String> {
    let b = phone.as_bytes();
    if b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
    {
        Ok(())
    } else {
        Err(format!(
            "phone {phone:?} is not a mainland mobile number (11 digits, 1[3-9]…)"
        ))
    }
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The GB 11643 check character for the first 17 digits of a resident ID.
pub fn id_check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize])
}

/// Normalises an ID number: trims and upper-cases a trailing `x`.
pub fn normalize_id(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

/// Validates an ID number (R4). An 18-digit PRC resident ID must carry a valid
/// check digit and birth date; it returns that birth date. Other documents
/// (passports, Hong Kong/Macao/Taiwan permits) are accepted as 6–20 letters and
/// digits, with no birth date.
pub fn check_id_number(id: &str) -> Result<Option<NaiveDate>, String> {
    let b = id.as_bytes();
    let looks_resident = b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit);
    if looks_resident {
        let want = id_check_char(&b[..17]).unwrap_or(b'?');
        if b[17] != want {
            return Err(format!(
                "ID number {id:?} has a wrong check digit (expected {})",
                want as char
            ));
        }
        let date = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| {
            format!(
                "ID number {id:?} carries no valid birth date ({})",
                &id[6..14]
            )
        })?;
        return Ok(Some(date));
    }
    if b.len() == 18 || b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "ID number {id:?} is not a valid 18-digit resident ID"
        ));
    }
    if (6..=20).contains(&b.len()) && b.iter().all(u8::is_ascii_alphanumeric) {
        return Ok(None);
    }
    Err(format!(
        "ID number {id:?} is not a valid ID document number"
    ))
}

/// A member's name: 1–50 characters, no control characters (R4).
pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("name is empty".into());
    }
    if n.chars().count() > 50 || n.chars().any(char::is_control) {
        return Err(format!("name {n:?} is too long or has control characters"));
    }
    Ok(())
}

/// Masks a phone for exports and reports (R35, SPEC "Masking hides, it does
/// not encode"): `138****8000`. Anything that is not an 11-character phone
/// is all stars.
pub fn mask_phone(phone: &str) -> String {
    let c: Vec<char> = phone.chars().collect();
    if c.len() == 11 {
        let mid: String = "*".repeat(4);
        format!(
            "{}{mid}{}",
            c[..3].iter().collect::<String>(),
            c[7..].iter().collect::<String>()
        )
    } else {
        "*".repeat(c.len())
    }
}

/// Masks an ID number (R35): its first four and last two characters, the
/// middle a `*` each (`1101************2X`). The region's last two digits and
/// the whole birth date stay hidden. Six characters or fewer are all stars.
pub fn mask_id(id: &str) -> String {
    let c: Vec<char> = id.chars().collect();
    let n = c.len();
    if n > 6 {
        format!(
            "{}{}{}",
            c[..4].iter().collect::<String>(),
            "*".repeat(n - 6),
            c[n - 2..].iter().collect::<String>()
        )
    } else {
        "*".repeat(n)
    }
}

/// Masks a name (R35): the first character and one `*` (`张*`, `欧*`), so
/// not even the name's length shows.
pub fn mask_name(name: &str) -> String {
    match name.trim().chars().next() {
        Some(first) => format!("{first}*"),
        None => String::new(),
    }
}

/// Masks a birthday (R35): month and day only, `**-12-31` (the year would
/// give away the birth date, and with it most of the ID number).
pub fn mask_birthday(birthday: &str) -> String {
    let b = birthday.trim();
    if b.is_empty() {
        return String::new();
    }
    match NaiveDate::parse_from_str(b.get(..10).unwrap_or(b), "%Y-%m-%d") {
        Ok(d) => format!("**-{}", d.format("%m-%d")),
        Err(_) => "*".repeat(b.chars().count()),
    }
}

/// Masks a card number (R35) that would give away the holder's phone, ID
/// number or birth date: a card equal to the phone (R1 allows the member's
/// own phone as card) is masked as the phone is, one equal to the ID number
/// as the ID is, and one that contains any of them (or the birth date as
/// `YYYYMMDD`) is all stars. Other cards are shown as they are.
pub fn mask_card(card: &str, phone: &str, id_number: &str, birthday: Option<&str>) -> String {
    let c = card.trim();
    if c.is_empty() {
        return card.to_string();
    }
    let phone = phone.trim();
    let id_number = id_number.trim();
    if !phone.is_empty() && c == phone {
        return mask_phone(c);
    }
    if !id_number.is_empty() && c.eq_ignore_ascii_case(id_number) {
        return mask_id(c);
    }
    let upper = c.to_ascii_uppercase();
    let mut secrets: Vec<String> = Vec::new();
    if phone.len() >= 7 {
        secrets.push(phone.to_string());
    }
    if id_number.len() >= 7 {
        secrets.push(id_number.to_ascii_uppercase());
    }
    let b = id_number.as_bytes();
    if b.len() == 18 && b[..17].iter().all(u8::is_ascii_digit) {
        secrets.push(id_number[6..14].to_string());
    }
    if let Some(d) = birthday.and_then(birth_digits) {
        secrets.push(d);
    }
    if secrets.iter().any(|s| upper.contains(s.as_str())) {
        return "*".repeat(c.chars().count());
    }
    card.to_string()
}

/// A stored birthday (`YYYY-MM-DD`, perhaps followed by more) as the birth
/// date's `YYYYMMDD`, None when it is not a date. The usual shape is read
/// without chrono's format parser (an export masks every card with it).
fn birth_digits(t: &str) -> Option<String> {
    let s = t.get(..10).unwrap_or(t);
    let b = s.as_bytes();
    let plain = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if plain {
        let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
        let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
        NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
        return Some(format!("{}{}{}", &s[0..4], &s[5..7], &s[8..10]));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y%m%d").to_string())
}

/// Masks what looks like a phone or an ID number inside free text (notes,
/// references) in masked output (R35): each run of letters and digits that
/// is a mainland mobile number is masked as a phone, each 15- or 18-character
/// resident ID as an ID.
pub fn mask_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let b = run.as_bytes();
        let id_like = (b.len() == 18
            && b[..17].iter().all(u8::is_ascii_digit)
            && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x'))
            || (b.len() == 15 && b.iter().all(u8::is_ascii_digit));
        if check_phone(run).is_ok() {
            out.push_str(&mask_phone(run));
        } else if id_like {
            out.push_str(&mask_id(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first17: &str) -> String {
        let c = id_check_char(first17.as_bytes()).unwrap();
        format!("{first17}{}", c as char)
    }

    #[test]
    fn r35_birth_digits_read_a_date_as_chrono_does() {
        let chrono_way = |t: &str| {
            NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d")
                .ok()
                .map(|d| d.format("%Y%m%d").to_string())
        };
        for t in [
            "1990-05-17",
            "2000-02-29",
            "1900-02-29",
            "2026-02-30",
            "2026-13-01",
            "0999-01-01",
            "1990-5-17",
            "1990-05-17T00:00:00",
            "1990/05/17",
            "",
            "abcd-ef-gh",
        ] {
            assert_eq!(birth_digits(t), chrono_way(t), "{t}");
        }
    }

    #[test]
    fn r1_phone_format() {
        assert!(check_phone("13800138000").is_ok());
        assert!(check_phone("19912345678").is_ok());
        assert!(check_phone("12800138000").is_err());
        assert!(check_phone("1380013800").is_err());
        assert!(check_phone("138001380001").is_err());
        assert!(check_phone("1380013800a").is_err());
    }

    #[test]
    fn r4_resident_id_check_digit_and_birthday() {
        // The GB 11643 standard's own example.
        assert_eq!(id_check_char(b"11010519491231002"), Some(b'X'));
        let id = with_check("11010119900307123");
        assert_eq!(
            check_id_number(&id).unwrap(),
            NaiveDate::from_ymd_opt(1990, 3, 7)
        );
        let mut bad = id.clone().into_bytes();
        bad[17] = if bad[17] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        assert!(check_id_number(&bad).unwrap_err().contains("check digit"));
        let feb30 = with_check("11010119900230123");
        assert!(check_id_number(&feb30).unwrap_err().contains("birth date"));
        assert!(check_id_number("E12345678").unwrap().is_none());
        assert!(check_id_number("12").is_err());
        assert!(check_id_number("11010119900307123Y").is_err());
    }

    #[test]
    fn r35_masks() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_id("110101199003071234"), "1101************34");
        assert_eq!(mask_id("11010519491231002X"), "1101************2X");
        assert_eq!(mask_id("E12345678"), "E123***78");
        assert_eq!(mask_id("E1234"), "*****");
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧*");
        assert_eq!(mask_birthday("1949-12-31"), "**-12-31");
        assert_eq!(mask_birthday(""), "");
    }

    #[test]
    fn r35_a_masked_id_hides_the_birth_date() {
        // The case: `110105********002X` beside `1949-12-31` gave the
        // whole number away. Now neither the ID's date digits nor the year show.
        let id = "11010519491231002X";
        let masked = mask_id(id);
        assert!(!masked.contains("1949"), "{masked}");
        assert!(!masked.contains("1231"), "{masked}");
        assert_eq!(masked.chars().count(), id.len());
        assert!(!mask_birthday("1949-12-31").contains("1949"));
    }

    #[test]
    fn r35_cards_that_give_away_a_phone_or_id_are_masked() {
        let (phone, id) = ("13800138000", "11010519491231002X");
        assert_eq!(mask_card("13800138000", phone, id, None), "138****8000");
        assert_eq!(mask_card(id, phone, id, None), "1101************2X");
        assert_eq!(
            mask_card("VIP-13800138000", phone, id, None),
            "*".repeat(15)
        );
        assert_eq!(mask_card("C19491231", phone, id, None), "*".repeat(9));
        assert_eq!(
            mask_card("C20000101", phone, "E12345678", Some("2000-01-01")),
            "*".repeat(9)
        );
        assert_eq!(mask_card("C000001", phone, id, None), "C000001");
    }

    #[test]
    fn r35_phones_and_ids_in_free_text_are_masked() {
        assert_eq!(
            mask_in_text("called 13800138000 re 11010519491231002X, ok"),
            "called 138****8000 re 1101************2X, ok"
        );
        assert_eq!(
            mask_in_text("double credit on 3 May"),
            "double credit on 3 May"
        );
        assert_eq!(mask_in_text("R00000001"), "R00000001");
    }
}
