//! Tests of the CSV input and the rejects file.

use super::encoding::*;

/// Whether the input ends inside a quoted field, fed to `Scan` in two
/// pieces split at every position.
fn ends_quoted(text: &[u8]) -> bool {
    let mut answers = (0..=text.len()).map(|cut| {
        let mut s = Scan::new(Some(Found::Utf8));
        s.track(&text[..cut]);
        s.track(&text[cut..]);
        s.in_quotes()
    });
    let first = answers.next().unwrap();
    assert!(
        answers.all(|a| a == first),
        "{:?}: the answer depends on where the input is split",
        String::from_utf8_lossy(text)
    );
    first
}

#[test]
fn a_quote_left_open_at_the_end_is_seen_wherever_the_reads_split() {
    for closed in [
        &b"a,b\n1,2\n"[..],
        b"a,b\n\"1\",\"2\"\n",
        b"a,b\n\"1,5\",\"say \"\"hi\"\"\"\n",
        b"a,b\n5\"tv,x\n",
        b"a,b\n\"\",\"\"",
        b"a,b\n\"x\"y\",z\n",
        b"a,b\r\n\"1\r\n2\",3\r\n",
    ] {
        assert!(
            !ends_quoted(closed),
            "{:?}",
            String::from_utf8_lossy(closed)
        );
    }
    for open in [
        &b"a,b\n1,\"2"[..],
        b"a,b\n1,\"2\n",
        b"a,b\n1,\"say \"\"hi\"\"",
        b"a,b\n\"",
        b"a,b\n1,\"2\"\"\n",
    ] {
        assert!(ends_quoted(open), "{:?}", String::from_utf8_lossy(open));
    }
}

#[test]
fn the_encoding_is_what_most_lines_around_the_first_non_ascii_byte_are() {
    let utf8 = "a,烟草\n".as_bytes();
    let gbk: &[u8] = b"a,\xD1\xCC\xB2\xDD\n";
    let mut mixed = utf8.to_vec();
    mixed.extend(gbk);
    assert_eq!(sniff(&mixed, 2), Found::Utf8, "a tie goes to the first");
    mixed.extend(gbk);
    assert_eq!(sniff(&mixed, 2), Found::Gb18030, "most lines");
    let mut mixed = gbk.to_vec();
    mixed.extend(utf8);
    assert_eq!(sniff(&mixed, 2), Found::Gb18030, "a tie goes to the first");
    // A UTF-8 character cut at the end of the window is not counted.
    let cut = &"a,烟草\nb,烟".as_bytes()[..13];
    assert_eq!(sniff(cut, 2), Found::Utf8);
}
