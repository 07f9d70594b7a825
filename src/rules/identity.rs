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

/// Masks a phone for exports and reports (R35): `138****8000`.
pub fn mask_phone(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "*".repeat(phone.chars().count())
    }
}

/// Masks an ID number (R35): `110101********1234`.
pub fn mask_id(id: &str) -> String {
    let n = id.chars().count();
    if n > 10 && id.is_ascii() {
        format!("{}{}{}", &id[..6], "*".repeat(n - 10), &id[n - 4..])
    } else {
        "*".repeat(n)
    }
}

/// Masks a name (R35): `张*`, `欧阳**`→ first character kept.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first17: &str) -> String {
        let c = id_check_char(first17.as_bytes()).unwrap();
        format!("{first17}{}", c as char)
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
        assert_eq!(mask_id("110101199003071234"), "110101********1234");
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
    }
}
