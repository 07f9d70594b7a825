//! CSV input and rejects output shared by every batch command: `-` for stdin,
//! encoding detection (UTF-8 with or without BOM, GB18030/GBK), header-named
//! columns matched case-insensitively, and a rejects file that re-imports as is.

use anyhow::{bail, Context, Result};
use encoding_rs::GB18030;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 (BOM or not) if most lines around the first non-ASCII byte are
    /// valid UTF-8, else GB18030; each row is then checked against it.
    #[default]
    Auto,
    /// UTF-8, with or without a BOM.
    Utf8,
    /// GB18030, a superset of GBK and GB2312.
    Gb18030,
}

/// How many bytes are looked at to tell UTF-8 from GB18030.
const SNIFF_BYTES: usize = 64 * 1024;

/// Opens a file argument (`-` is stdin).
pub fn open(path: &str) -> Result<Box<dyn Read>> {
    if path == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let f = File::open(path).with_context(|| format!("cannot open {path}"))?;
    Ok(Box::new(f))
}

fn is_utf8_prefix(buf: &[u8]) -> bool {
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

fn gb18030(input: Box<dyn Read>) -> Box<dyn Read> {
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
struct Sniffing {
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
enum Found {
    Utf8,
    Gb18030,
}

/// What the pass over the raw bytes has seen, shared by the reader that feeds
/// the CSV parser and the table that checks each record it returns.
#[derive(Debug)]
struct Scan {
    /// The file's encoding; decided before the first non-ASCII byte is handed on.
    found: Option<Found>,
    /// Still looking for the first non-ASCII byte (`Encoding::Auto`).
    sniffing: bool,
    /// The encoding was decided from the file, not given (said so when a row
    /// is in the other one).
    sniffed: bool,
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
    eof: bool,
}

impl Scan {
    fn new(found: Option<Found>) -> Scan {
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
    fn in_quotes(&self) -> bool {
        self.quoted && !self.quote_pending
    }

    /// Follows the quoting of the bytes handed on, as the CSV parser reads
    /// them: a quote opens a field only at its start (after a comma or a line
    /// feed); inside, a doubled quote is a quote and a single one closes it.
    fn track(&mut self, bytes: &[u8]) {
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
    fn after_closing_quote(&mut self, next: u8, at: usize) {
        if !matches!(next, b',' | b'\n' | b'\r') {
            self.stray_after_quote.push_back(self.offset + at as u64);
        }
    }

    /// Whether text follows a closing quote within the record that spans
    /// the offsets `start..end`; forgets what lies before `end`.
    fn stray_quote_in(&mut self, start: u64, end: u64) -> bool {
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
fn sniff(buf: &[u8], first: usize) -> Found {
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
struct RawInput {
    inner: Box<dyn Read>,
    held: Vec<u8>,
    pos: usize,
    scan: Rc<RefCell<Scan>>,
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

/// What `Table::next_record` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A record, starting on this line.
    Row(u64),
    /// A record that cannot be trusted (wrong number of fields, a stray
    /// carriage return, not in the file's encoding, cut off inside a quoted
    /// field), starting on this line, and why. The record holds what could be
    /// read of it, for the rejects file; a receipt it belongs to is rejected whole.
    Malformed(u64, String),
    /// A row that could not be read (already in the rejects file); `end` when
    /// nothing more can be read.
    Unreadable {
        end: bool,
    },
    End,
}

/// What a header row in the middle of a file is.
enum HeaderRow {
    /// The first header's columns, in this order (`None`: the same order).
    Same(Option<Vec<usize>>),
    /// Other columns.
    Other,
}

/// A CJK character: ideographs, radicals, kana, CJK punctuation and
/// full-width forms.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{2E80}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}' | '\u{20000}'..='\u{3134F}')
}

/// A blank line.
fn is_blank(record: &csv::ByteRecord) -> bool {
    record.len() == 1 && record[0].trim_ascii().is_empty()
}

/// A CSV file with a header row.
pub struct Table {
    pub reader: csv::Reader<Box<dyn Read>>,
    pub headers: csv::ByteRecord,
    index: HashMap<String, usize>,
    /// The header's names, trimmed and lower-cased: a row naming the same
    /// columns is the header repeated (files joined with `cat`).
    names: Vec<String>,
    /// The columns the command requires (`require`), lower-cased.
    required: Vec<String>,
    /// After a repeated header naming the same columns in another order: for
    /// each column of the first header, where it is in the rows now read.
    order: Option<Vec<usize>>,
    /// After a header row naming other columns than the first: its line.
    foreign: Option<u64>,
    pub name: String,
    scan: Rc<RefCell<Scan>>,
    scratch: csv::ByteRecord,
    field_buf: Vec<u8>,
}

/// U+FEFF (byte-order mark, zero-width no-break space) in UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a field holds a carriage return not followed by a line feed.
fn has_lone_cr(field: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', field).any(|i| field.get(i + 1) != Some(&b'\n'))
}

impl Table {
    /// Opens `path` (or stdin) as a CSV table.
    pub fn open(path: &str, encoding: Encoding) -> Result<Table> {
        Table::from_raw(
            open(path)?,
            if path == "-" { "<stdin>" } else { path },
            encoding,
        )
    }

    /// A table from raw bytes in UTF-8 or GB18030, told apart as `Auto` does.
    pub fn from_reader(reader: Box<dyn Read>, name: &str) -> Result<Table> {
        Table::from_raw(reader, name, Encoding::Auto)
    }

    /// A table from raw bytes in `encoding`. A UTF-8 byte-order mark at the
    /// start means UTF-8 whatever `encoding` says.
    pub fn from_raw(mut input: Box<dyn Read>, name: &str, encoding: Encoding) -> Result<Table> {
        let mut head = Vec::with_capacity(3);
        (&mut input).take(3).read_to_end(&mut head)?;
        let has_bom = head == BOM;
        let rest: Box<dyn Read> = if has_bom {
            input
        } else {
            Box::new(Cursor::new(head).chain(input))
        };
        let found = match encoding {
            _ if has_bom => Some(Found::Utf8),
            Encoding::Utf8 => Some(Found::Utf8),
            Encoding::Gb18030 => Some(Found::Gb18030),
            Encoding::Auto => None,
        };
        let scan = Rc::new(RefCell::new(Scan::new(found)));
        let raw: Box<dyn Read> = Box::new(RawInput {
            inner: rest,
            held: Vec::new(),
            pos: 0,
            scan: Rc::clone(&scan),
        });
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(256 * 1024)
            .from_reader(raw);
        let mut headers = reader
            .byte_headers()
            .with_context(|| format!("{name}: cannot read the header row"))?
            .clone();
        let mut table = Table {
            reader,
            headers: csv::ByteRecord::new(),
            index: HashMap::new(),
            names: Vec::new(),
            required: Vec::new(),
            order: None,
            foreign: None,
            name: name.to_string(),
            scan,
            scratch: csv::ByteRecord::new(),
            field_buf: Vec::new(),
        };
        let flaw = table.normalize(&mut headers).err();
        if headers.is_empty() || (headers.len() == 1 && headers[0].trim_ascii().is_empty()) {
            bail!("{name}: the file is empty (no header row)");
        }
        if flaw.is_some() && headers.iter().any(has_lone_cr) {
            bail!(
                "{name}: line 1: the header row holds a carriage return (CR) without a line feed: \
                 lines that end in CR alone (an old Mac file?) or a stray line break; \
                 save the file with LF or CRLF line endings"
            );
        }
        if let Some(reason) = flaw {
            bail!("{name}: line 1: the header row cannot be read: {reason}");
        }
        if headers
            .iter()
            .flatten()
            .any(|&b| b < 0x20 && b != b'\t' || b == 0x7f)
        {
            bail!("{name}: line 1: the header row is not CSV text (is this a binary file?)");
        }
        for (i, h) in headers.iter().enumerate() {
            let h = std::str::from_utf8(h)
                .with_context(|| format!("{name}: line 1: the header is not text"))?;
            let key = trim_code(h).to_lowercase();
            if !key.is_empty() {
                if let Some(&j) = table.index.get(&key) {
                    bail!(
                        "{name}: line 1: the header names column {key:?} twice (columns {} and {}); \
                         rename or remove one",
                        j + 1,
                        i + 1
                    );
                }
                table.index.insert(key.clone(), i);
            }
            table.names.push(key);
        }
        table.headers = headers;
        Ok(table)
    }

    /// The index of a column, by case-insensitive name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Reads the next record into `record`, as UTF-8 text with the line
    /// ending's CR and every U+FEFF removed, its fields in the first header's
    /// order. Blank lines and the header repeated (files joined with `cat`)
    /// are skipped. A row that cannot be trusted comes back as
    /// `Next::Malformed`; a row the CSV reader cannot read at all is written
    /// to the rejects file and skipped; an I/O error ends the file.
    ///
    /// A header row in the middle of the file (every field, trimmed and
    /// without U+FEFF, a column name, compared case-insensitively, and every
    /// required column named) is the start of another file joined on:
    /// - naming the same columns as the first header, in any order, it is
    ///   skipped and the rows after it are read by its order (and handed on,
    ///   and written to the rejects file, in the first header's order);
    /// - naming other columns (one more, one less, one renamed), it and the
    ///   rows after it, up to a header naming the first header's columns,
    ///   are rejected with a reason naming its line: their fields cannot be
    ///   put in the first header's columns without guessing, and the part can
    ///   be imported as a file of its own.
    pub fn next_record(
        &mut self,
        record: &mut csv::ByteRecord,
        rejects: &mut Rejects,
    ) -> Result<Next> {
        loop {
            let line = self.reader.position().line();
            match self.reader.read_byte_record(record) {
                Ok(false) => return Ok(Next::End),
                Ok(true) => {
                    let line = record.position().map_or(line, |p| p.line());
                    let start = record.position().map_or(0, csv::Position::byte);
                    let end = self.reader.position().byte();
                    let stray_quote = self.scan.borrow_mut().stray_quote_in(start, end);
                    let flaw = self.normalize(record).err().or_else(|| {
                        stray_quote.then(|| {
                            "text after a closing quote (as in \"12\"3): quote the whole field"
                                .to_string()
                        })
                    });
                    if flaw.is_none() {
                        if is_blank(record) {
                            continue;
                        }
                        match self.header_row(record) {
                            Some(HeaderRow::Same(order)) => {
                                self.order = order;
                                self.foreign = None;
                                continue;
                            }
                            Some(HeaderRow::Other) => {
                                self.foreign = Some(line);
                                return Ok(Next::Malformed(
                                    line,
                                    format!(
                                        "a header row naming other columns than line 1's ({}): \
                                         the rows under it are not read; import them as a file \
                                         of their own",
                                        self.names.join(",")
                                    ),
                                ));
                            }
                            None => {}
                        }
                    }
                    if let Some(order) = &self.order {
                        if record.len() == order.len() {
                            self.scratch.clear();
                            for &i in order {
                                self.scratch.push_field(&record[i]);
                            }
                            self.scratch.set_position(record.position().cloned());
                            std::mem::swap(record, &mut self.scratch);
                        }
                    }
                    let flaw = flaw.or_else(|| {
                        self.foreign.map(|h| {
                            format!(
                                "under the header row on line {h}, which names other columns \
                                 than line 1's: not read; import that part as a file of its own"
                            )
                        })
                    });
                    let flaw = flaw.or_else(|| {
                        (record.len() != self.headers.len()).then(|| {
                            format!(
                                "the row has {} fields where the header has {} \
                                 (an unquoted comma, as in 1,234.00? quote the value or drop the comma)",
                                record.len(),
                                self.headers.len()
                            )
                        })
                    });
                    return Ok(match flaw {
                        Some(reason) => Next::Malformed(line, reason),
                        None => Next::Row(line),
                    });
                }
                Err(e) => {
                    rejects.write(
                        &csv::ByteRecord::new(),
                        line,
                        &format!("unreadable CSV: {e}"),
                    )?;
                    let end = matches!(e.kind(), csv::ErrorKind::Io(_));
                    return Ok(Next::Unreadable { end });
                }
            }
        }
    }

    /// Whether `record` is a header row: `Same` with the order to read the
    /// rows after it by (`None`: the first header's), or `Other`. A header
    /// row names every required column (with none required, it must name the
    /// first header's columns); one whose names are the first header's, each
    /// once, is `Same`.
    fn header_row(&self, record: &csv::ByteRecord) -> Option<HeaderRow> {
        // Cheap first: a header row holds the first required column's name
        // (or the first header's first name) as one of its fields.
        let key = self
            .required
            .first()
            .or_else(|| self.names.iter().find(|n| !n.is_empty()))?;
        let holds_key = record
            .iter()
            .any(|f| std::str::from_utf8(f).is_ok_and(|f| trim_code(f).eq_ignore_ascii_case(key)));
        if !holds_key {
            return None;
        }
        let mut names = Vec::with_capacity(record.len());
        for f in record.iter() {
            names.push(trim_code(std::str::from_utf8(f).ok()?).to_lowercase());
        }
        // Each of the first header's names, found once in the row.
        let mut used = vec![false; names.len()];
        let mut order = Vec::with_capacity(self.names.len());
        let same_set = names.len() == self.names.len()
            && self.names.iter().all(|n| {
                match (0..names.len()).find(|&j| !used[j] && names[j] == *n) {
                    Some(j) => {
                        used[j] = true;
                        order.push(j);
                        true
                    }
                    None => false,
                }
            });
        if same_set {
            let identity = order.iter().enumerate().all(|(i, &j)| i == j);
            return Some(HeaderRow::Same((!identity).then_some(order)));
        }
        let names_required =
            !self.required.is_empty() && self.required.iter().all(|r| names.contains(r));
        names_required.then_some(HeaderRow::Other)
    }

    /// Puts a record read as raw bytes into UTF-8: the line ending's CR
    /// dropped, the file's encoding decoded, every U+FEFF removed. `Err` says
    /// why the row cannot be trusted; the record is then still made as
    /// readable as can be, for the rejects file.
    fn normalize(&mut self, record: &mut csv::ByteRecord) -> Result<(), String> {
        let (found, sniffed, truncated) = {
            let s = self.scan.borrow();
            (
                s.found.unwrap_or(Found::Utf8),
                s.sniffed,
                s.eof && s.in_quotes(),
            )
        };
        let mut flaw = truncated.then(|| {
            "the file ends inside a quoted field (cut off in transfer?): the row is incomplete"
                .to_string()
        });
        // The CR of a CRLF line ending ends the last field.
        let n = record.len();
        if n > 0 && record[n - 1].last() == Some(&b'\r') {
            self.field_buf.clear();
            self.field_buf
                .extend_from_slice(&record[n - 1][..record[n - 1].len() - 1]);
            record.truncate(n - 1);
            record.push_field(&self.field_buf);
        }
        let all = record.as_slice();
        if memchr::memchr(b'\r', all).is_some() {
            if let Some(i) = record.iter().position(has_lone_cr) {
                flaw.get_or_insert_with(|| {
                    format!(
                        "a carriage return (CR) without a line feed inside the row, in column {}: \
                         a stray line break?",
                        i + 1
                    )
                });
            }
        }
        if all.is_ascii() {
            return flaw.map_or(Ok(()), Err);
        }
        let position = record.position().cloned();
        self.scratch.clear();
        match found {
            Found::Utf8 => {
                if std::str::from_utf8(all).is_ok() {
                    if memchr::memmem::find(all, BOM).is_none() {
                        return flaw.map_or(Ok(()), Err);
                    }
                    for f in record.iter() {
                        self.field_buf.clear();
                        let mut rest = f;
                        while let Some(p) = memchr::memmem::find(rest, BOM) {
                            self.field_buf.extend_from_slice(&rest[..p]);
                            rest = &rest[p + BOM.len()..];
                        }
                        self.field_buf.extend_from_slice(rest);
                        self.scratch.push_field(&self.field_buf);
                    }
                } else {
                    // Shown in the rejects file as GBK if it reads as GBK, else
                    // with the bad bytes replaced: the rejects file stays UTF-8.
                    let gbk = record.iter().all(|f| {
                        GB18030
                            .decode_without_bom_handling_and_without_replacement(f)
                            .is_some()
                    });
                    for f in record.iter() {
                        let text = if gbk {
                            GB18030.decode_without_bom_handling(f).0
                        } else {
                            String::from_utf8_lossy(f)
                        };
                        self.scratch.push_field(text.as_bytes());
                    }
                    flaw.get_or_insert_with(|| {
                        format!(
                            "the row is not UTF-8 like the rest of the file{}",
                            if gbk {
                                " (it reads as GBK/GB18030: save the file in one encoding)"
                            } else {
                                ""
                            }
                        )
                    });
                }
            }
            Found::Gb18030 => {
                let mut utf8_text = false;
                for (i, f) in record.iter().enumerate() {
                    // A UTF-8 byte-order mark left at the start of a line by `cat`.
                    let f = if i == 0 {
                        f.strip_prefix(BOM).unwrap_or(f)
                    } else {
                        f
                    };
                    // Valid UTF-8 with non-ASCII bytes is taken for UTF-8: read as
                    // GBK it would be other characters (烟草 as 鐑熻崏), and a
                    // category that earns nothing would earn. When the encoding
                    // was given (`--encoding gb18030`), only UTF-8 that reads as
                    // Chinese text is: GBK text can be valid UTF-8 by chance
                    // (专业, D7 A8 D2 B5, reads "רҵ"), and is then read as given.
                    if !f.is_ascii() {
                        if let Ok(t) = std::str::from_utf8(f) {
                            if sniffed || t.chars().any(is_cjk) {
                                utf8_text = true;
                            }
                        }
                    }
                    let text = match GB18030.decode_without_bom_handling_and_without_replacement(f)
                    {
                        Some(t) => t,
                        None => {
                            flaw.get_or_insert_with(|| {
                                format!(
                                    "column {} is not valid GBK/GB18030 like the rest of the file",
                                    i + 1
                                )
                            });
                            GB18030.decode_without_bom_handling(f).0
                        }
                    };
                    if text.contains('\u{feff}') {
                        self.scratch
                            .push_field(text.replace('\u{feff}', "").as_bytes());
                    } else {
                        self.scratch.push_field(text.as_bytes());
                    }
                }
                if utf8_text {
                    // Keep the row as it was written: it is UTF-8 text.
                    self.scratch.clear();
                    for (i, f) in record.iter().enumerate() {
                        let f = if i == 0 {
                            f.strip_prefix(BOM).unwrap_or(f)
                        } else {
                            f
                        };
                        self.scratch
                            .push_field(String::from_utf8_lossy(f).as_bytes());
                    }
                    flaw = Some(if sniffed {
                        "the row is UTF-8 but the rest of the file is GBK/GB18030: save the file in one encoding"
                            .to_string()
                    } else {
                        "the row is UTF-8, not GBK/GB18030 as the file's encoding was given: \
                         save the file in one encoding"
                            .to_string()
                    });
                }
            }
        }
        self.scratch.set_position(position);
        std::mem::swap(record, &mut self.scratch);
        flaw.map_or(Ok(()), Err)
    }

    /// Fails naming every required column that is missing.
    pub fn require(&mut self, names: &[&str]) -> Result<()> {
        self.required = names.iter().map(|n| n.to_lowercase()).collect();
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| self.column(n).is_none())
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}: line 1: missing required column{} {} (the header has: {})",
                self.name,
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                self.headers
                    .iter()
                    .map(String::from_utf8_lossy)
                    .collect::<Vec<_>>()
                    .join(",")
                    .chars()
                    .take(200)
                    .collect::<String>()
            );
        }
        Ok(())
    }
}

/// A code as compared and stored: without surrounding white space or any
/// U+FEFF (left at the start of a line by files joined with `cat`).
pub fn trim_code(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// The text of a field, trimmed; empty when the column is absent.
pub fn field<'r>(
    record: &'r csv::ByteRecord,
    col: Option<usize>,
    name: &str,
) -> Result<&'r str, String> {
    let Some(i) = col else { return Ok("") };
    let bytes = record.get(i).unwrap_or(b"");
    std::str::from_utf8(bytes)
        .map(trim_code)
        .map_err(|_| format!("field {name} is not valid text in the file's encoding"))
}

/// Longest field accepted, in bytes: a guard against runaway quotes and binary files.
pub const FIELD_MAX_BYTES: usize = 1024;

/// Writes rejected rows: the input's columns plus `line` and `reason`. The file
/// is created at the first reject, so a clean run leaves no file behind. A row
/// with more fields than the header (an unquoted comma, two lines run together
/// by a stray carriage return) keeps them all: the fields past the header's
/// count follow `reason`, so that nothing of the line is lost and the operator
/// can mend it and import the rejects file again.
///
/// Where the input itself reads a column named `reason` (an adjust file's
/// `member,points,expires_on,reason,ref`), that column is data and is kept
/// as it is; the rejection's reason is then written as `reject_reason`, so
/// the two never collide. Either way the rejects file re-imports as it is:
/// the added columns (`line`, and `reason` or `reject_reason`) are not read
/// by the batch and are dropped again from the next rejects file.
///
/// Rows are buffered; a batch calls `flush` before it commits the work the
/// rows belong with, so that what the file holds is never behind what was
/// committed (a file that cannot be written stops the batch first).
pub struct Rejects {
    path: PathBuf,
    headers: csv::ByteRecord,
    /// Input columns copied to the rejects file: all but an earlier run's
    /// `line` and reason column, so a rejects file can itself be re-imported.
    keep: Vec<usize>,
    /// How many columns the input's header has: fields past them are written
    /// after `reason`.
    width: usize,
    /// The name of the column holding why a row was rejected: `reason`, or
    /// `reject_reason` when the input has a `reason` column of its own.
    reason_column: &'static str,
    writer: Option<csv::Writer<Box<dyn Write>>>,
    /// Written nowhere (a dry run, one receipt from flags): rows are only
    /// counted, and the first `PREVIEW_MAX` kept in `preview`.
    discard: bool,
    /// The first rejected rows as (line, reason), when discarding.
    pub preview: Vec<(u64, String)>,
    pub count: u64,
}

/// Rejected rows a discarding `Rejects` keeps for the operator.
pub const PREVIEW_MAX: usize = 20;

impl Rejects {
    /// Rejects for an input with `headers`, of which the batch reads
    /// `columns`: a `reason` among them is data (see the type's comment).
    pub fn new(path: PathBuf, headers: &csv::ByteRecord, columns: &[&str]) -> Rejects {
        let reason_column = if columns.contains(&"reason") {
            "reject_reason"
        } else {
            "reason"
        };
        let keep: Vec<usize> = (0..headers.len())
            .filter(|&i| {
                let h = String::from_utf8_lossy(&headers[i]);
                let h = trim_code(&h).to_lowercase();
                h != "line" && h != reason_column
            })
            .collect();
        let mut kept = csv::ByteRecord::new();
        for &i in &keep {
            kept.push_field(&headers[i]);
        }
        Rejects {
            path,
            headers: kept,
            keep,
            width: headers.len(),
            reason_column,
            writer: None,
            discard: false,
            preview: Vec::new(),
            count: 0,
        }
    }

    /// Rejects that are counted but written nowhere.
    pub fn discarding(headers: &csv::ByteRecord) -> Rejects {
        Rejects {
            discard: true,
            ..Rejects::new(PathBuf::new(), headers, &[])
        }
    }

    /// Whether rows go nowhere.
    pub fn is_discarding(&self) -> bool {
        self.discard
    }

    fn name(&self) -> String {
        if self.path.as_os_str() == "-" {
            "<stdout>".to_string()
        } else {
            self.path.display().to_string()
        }
    }

    /// The default rejects path for an input: `x.csv` → `x.rejects.csv`.
    pub fn default_path(input: &str) -> PathBuf {
        if input == "-" {
            return PathBuf::from("stdin.rejects.csv");
        }
        let p = Path::new(input);
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        p.with_file_name(format!("{stem}.rejects.csv"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&mut self) -> Result<&mut csv::Writer<Box<dyn Write>>> {
        if self.writer.is_none() {
            let out: Box<dyn Write> = if self.path.as_os_str() == "-" {
                Box::new(io::stdout())
            } else {
                Box::new(BufWriter::new(File::create(&self.path).with_context(
                    || format!("cannot create rejects file {}", self.path.display()),
                )?))
            };
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
            let mut header = self.headers.clone();
            header.push_field(b"line");
            header.push_field(self.reason_column.as_bytes());
            let name = self.name();
            w.write_byte_record(&header)
                .with_context(|| format!("cannot write the rejects file {name}"))?;
            self.writer = Some(w);
        }
        match self.writer.as_mut() {
            Some(w) => Ok(w),
            None => unreachable!("writer was just created"),
        }
    }

    /// Writes one rejected input row.
    pub fn write(&mut self, record: &csv::ByteRecord, line: u64, reason: &str) -> Result<()> {
        if self.discard {
            if self.preview.len() < PREVIEW_MAX {
                self.preview.push((line, reason.to_string()));
            }
            self.count += 1;
            return Ok(());
        }
        let mut out = csv::ByteRecord::new();
        for &i in &self.keep {
            out.push_field(record.get(i).unwrap_or(b""));
        }
        out.push_field(line.to_string().as_bytes());
        out.push_field(reason.as_bytes());
        for extra in record.iter().skip(self.width) {
            out.push_field(extra);
        }
        let w = self.writer()?;
        let result = w.write_byte_record(&out);
        let name = self.name();
        result.with_context(|| format!("cannot write the rejects file {name}"))?;
        self.count += 1;
        Ok(())
    }

    /// Writes out every row so far, and fails if they could not all be
    /// written (a full disk, `/dev/full`, a closed pipe).
    pub fn flush(&mut self) -> Result<()> {
        let name = self.name();
        if let Some(w) = self.writer.as_mut() {
            w.flush()
                .with_context(|| format!("cannot write the rejects file {name}"))?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
