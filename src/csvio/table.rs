//! A CSV table with a header row: records one at a time, checked against
//! the file's encoding, repeated headers skipped or followed.

use super::encoding::{Found, RawInput, Scan};
use super::{open, trim_code, Encoding, Rejects};
use anyhow::{bail, Context, Result};
use encoding_rs::GB18030;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::rc::Rc;

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
