//! Telling UTF-8 from GB18030 by the lines around the first non-ASCII
//! byte, and decoding lazily.

use super::Encoding;
use anyhow::Result;
use encoding_rs::GB18030;
use std::cell::RefCell;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

/// How many bytes are looked at to tell UTF-8 from GB18030.
pub(super) const SNIFF_BYTES: usize = 64 * 1024;

pub(super) fn is_utf8_prefix(buf: &[u8]) -> bool {
    match std::str::from_utf8(buf) {
        Ok(_) => true,
        // A multi-byte sequence cut at the end of the sniffed block is fine.
        Err(e) => e.error_len().is_none(),
    }
}

/// Wraps `input` so that it yields UTF-8, detecting the encoding if asked to,
/// for a whole stream at once. `Table` does not use it: it reads raw bytes and
/// checks every row against the file's encoding.
/// Returns the reader and the encoding asked for (`Auto` stays `Auto`: the
/// choice is made when the first non-ASCII byte is read).
pub fn decode(mut input: Box<dyn Read>, encoding: Encoding) -> Result<(Box<dyn Read>, Encoding)> {
    let mut head = Vec::with_capacity(3);
    (&mut input).take(3).read_to_end(&mut head)?;
    let has_bom = head == b"\xEF\xBB\xBF";
    let rest: Box<dyn Read> = if has_bom {
        input
    } else {
        Box::new(Cursor::new(head).chain(input))
    };
    let reader: Box<dyn Read> = match encoding {
        _ if has_bom => rest,
        Encoding::Utf8 => rest,
        Encoding::Gb18030 => gb18030(rest),
        Encoding::Auto => Box::new(Sniffing {
            inner: rest,
            buf: Vec::new(),
            pos: 0,
            decided: None,
        }),
    };
    Ok((reader, encoding))
}

pub(super) fn gb18030(input: Box<dyn Read>) -> Box<dyn Read> {
    Box::new(
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(GB18030))
            .build(input),
    )
}

/// Passes ASCII through until the first non-ASCII byte, then looks at up to
/// `SNIFF_BYTES` from there: valid UTF-8 stays as it is, anything else is
/// decoded as GB18030. ASCII reads the same in both, so deciding late loses
/// nothing, and memory stays one buffer whatever the file's size.
pub(super) struct Sniffing {
    inner: Box<dyn Read>,
    buf: Vec<u8>,
    pos: usize,
    decided: Option<Box<dyn Read>>,
}

impl Read for Sniffing {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(r) = self.decided.as_mut() {
                return r.read(out);
            }
            if self.pos < self.buf.len() {
                let n = out.len().min(self.buf.len() - self.pos);
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            self.buf.clear();
            self.pos = 0;
            (&mut self.inner)
                .take(SNIFF_BYTES as u64)
                .read_to_end(&mut self.buf)?;
            if self.buf.is_empty() {
                return Ok(0);
            }
            if let Some(first) = self.buf.iter().position(|b| !b.is_ascii()) {
                // Look at a whole window past the first non-ASCII byte.
                let want = first + SNIFF_BYTES;
                if self.buf.len() < want {
                    let more = (want - self.buf.len()) as u64;
                    (&mut self.inner).take(more).read_to_end(&mut self.buf)?;
                }
                let utf8 = is_utf8_prefix(&self.buf[first..]);
                let inner = std::mem::replace(&mut self.inner, Box::new(io::empty()));
                let rest: Box<dyn Read> =
                    Box::new(Cursor::new(std::mem::take(&mut self.buf)).chain(inner));
                self.decided = Some(if utf8 { rest } else { gb18030(rest) });
            }
        }
    }
}

/// The encoding a file was found (or said) to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    Utf8,
    Gb18030,
}

/// What the pass over the raw bytes has seen, shared by the reader that feeds
/// the CSV parser and the table that checks each record it returns.
#[derive(Debug)]
pub(super) struct Scan {
    /// The file's encoding; decided before the first non-ASCII byte is handed on.
    pub(super) found: Option<Found>,
    /// Still looking for the first non-ASCII byte (`Encoding::Auto`).
    sniffing: bool,
    /// The encoding was decided from the file, not given (said so when a row
    /// is in the other one).
    pub(super) sniffed: bool,
    /// Inside a quoted field, as the CSV parser is after the bytes handed on.
    quoted: bool,
    /// The last byte handed on was a quote inside a quoted field: the next
    /// byte says whether it closes the field or is a doubled quote.
    quote_pending: bool,
    /// The last byte handed on (`\n` before the first).
    prev: u8,
    /// Bytes handed on so far: the CSV parser's byte offsets.
    offset: u64,
    /// Offsets of bytes that follow a closing quote without ending the field
    /// (`"12"3`, which the CSV parser would read as `123`), not yet matched
    /// with the record they are in. Only the parser's read-ahead is held.
    stray_after_quote: std::collections::VecDeque<u64>,
    /// The input is exhausted.
    pub(super) eof: bool,
}

impl Scan {
    pub(super) fn new(found: Option<Found>) -> Scan {
        Scan {
            found,
            sniffing: found.is_none(),
            sniffed: false,
            quoted: false,
            quote_pending: false,
            prev: b'\n',
            offset: 0,
            stray_after_quote: std::collections::VecDeque::new(),
            eof: false,
        }
    }

    /// Whether the bytes handed on so far end inside a quoted field (a
    /// quote as the very last byte closes it).
    pub(super) fn in_quotes(&self) -> bool {
        self.quoted && !self.quote_pending
    }

    /// Follows the quoting of the bytes handed on, as the CSV parser reads
    /// them: a quote opens a field only at its start (after a comma or a line
    /// feed); inside, a doubled quote is a quote and a single one closes it.
    pub(super) fn track(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            if self.quote_pending {
                self.quote_pending = false;
                if bytes[i] == b'"' {
                    i += 1;
                    continue;
                }
                self.quoted = false;
                self.after_closing_quote(bytes[i], i);
            }
            let Some(j) = memchr::memchr(b'"', &bytes[i..]) else {
                break;
            };
            let at = i + j;
            i = at + 1;
            if self.quoted {
                if i == n {
                    self.quote_pending = true;
                } else if bytes[i] == b'"' {
                    i += 1;
                } else {
                    self.quoted = false;
                    self.after_closing_quote(bytes[i], i);
                }
            } else {
                let before = if at == 0 { self.prev } else { bytes[at - 1] };
                self.quoted = before == b',' || before == b'\n';
            }
        }
        if let Some(&last) = bytes.last() {
            self.prev = last;
        }
        self.offset += n as u64;
    }

    /// A closing quote must end its field: what follows it is a comma or
    /// the line's end. Anything else is noted at its offset (`at`, within
    /// the bytes being tracked).
    pub(super) fn after_closing_quote(&mut self, next: u8, at: usize) {
        if !matches!(next, b',' | b'\n' | b'\r') {
            self.stray_after_quote.push_back(self.offset + at as u64);
        }
    }

    /// Whether text follows a closing quote within the record that spans
    /// the offsets `start..end`; forgets what lies before `end`.
    pub(super) fn stray_quote_in(&mut self, start: u64, end: u64) -> bool {
        let mut found = false;
        while let Some(&at) = self.stray_after_quote.front() {
            if at >= end {
                break;
            }
            found |= at >= start;
            self.stray_after_quote.pop_front();
        }
        found
    }
}

/// Decides the encoding of `Auto` input from the lines around its first
/// non-ASCII byte (`first`): what most of the lines with non-ASCII bytes are
/// (valid UTF-8, or else GB18030), on a tie what the first of them is. A line
/// cut at the end of the window is not counted.
pub(super) fn sniff(buf: &[u8], first: usize) -> Found {
    let start = buf[..first]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let (mut utf8, mut other) = (0u32, 0u32);
    let mut first_is_utf8 = None;
    let mut rest = &buf[start..];
    while !rest.is_empty() {
        let (line, cut) = match memchr::memchr(b'\n', rest) {
            Some(p) => (&rest[..p], false),
            None => (rest, true),
        };
        rest = rest.get(line.len() + 1..).unwrap_or(&[]);
        if line.is_ascii() {
            continue;
        }
        let is_utf8 = match std::str::from_utf8(line) {
            Ok(_) => true,
            Err(e) if cut && e.error_len().is_none() => continue,
            Err(_) => false,
        };
        if is_utf8 {
            utf8 += 1;
        } else {
            other += 1;
        }
        first_is_utf8.get_or_insert(is_utf8);
    }
    if utf8 > other || (utf8 == other && first_is_utf8 != Some(false)) {
        Found::Utf8
    } else {
        Found::Gb18030
    }
}

/// The raw bytes of the input, handed on unchanged to the CSV parser while
/// `Scan` follows them. With `Auto`, ASCII passes until the first non-ASCII
/// byte; then up to `SNIFF_BYTES` from there are held back and looked at to
/// decide the encoding. Memory stays one window whatever the file's size.
pub(super) struct RawInput {
    pub(super) inner: Box<dyn Read>,
    pub(super) held: Vec<u8>,
    pub(super) pos: usize,
    pub(super) scan: Rc<RefCell<Scan>>,
}

impl Read for RawInput {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let n = loop {
            if self.pos < self.held.len() {
                let n = out.len().min(self.held.len() - self.pos);
                out[..n].copy_from_slice(&self.held[self.pos..self.pos + n]);
                self.pos += n;
                if self.pos == self.held.len() {
                    self.held = Vec::new();
                    self.pos = 0;
                }
                break n;
            }
            if !self.scan.borrow().sniffing {
                break self.inner.read(out)?;
            }
            self.held.clear();
            self.pos = 0;
            (&mut self.inner)
                .take(SNIFF_BYTES as u64)
                .read_to_end(&mut self.held)?;
            if self.held.is_empty() {
                break 0;
            }
            if let Some(first) = self.held.iter().position(|b| !b.is_ascii()) {
                let want = first + SNIFF_BYTES;
                if self.held.len() < want {
                    let more = (want - self.held.len()) as u64;
                    (&mut self.inner).take(more).read_to_end(&mut self.held)?;
                }
                let mut scan = self.scan.borrow_mut();
                scan.found = Some(sniff(&self.held, first));
                scan.sniffing = false;
                scan.sniffed = true;
            }
        };
        let mut scan = self.scan.borrow_mut();
        if n == 0 {
            scan.eof = true;
        } else {
            scan.track(&out[..n]);
        }
        Ok(n)
    }
}
