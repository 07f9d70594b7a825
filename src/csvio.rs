//! CSV input and rejects output shared by every batch command: `-` for stdin,
//! encoding detection (UTF-8 with or without BOM, GB18030/GBK), header-named
//! columns matched case-insensitively, and a rejects file that re-imports as is.

use anyhow::{bail, Context, Result};
use encoding_rs::GB18030;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 (BOM or not) if the start of the file is valid UTF-8, else GB18030.
    #[default]
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030, a superset of GBK and GB2312.
    #[value(name = "gb18030", alias = "gbk")]
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

/// Wraps `input` so that it yields UTF-8, detecting the encoding if asked to.
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

/// What `Table::next_record` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A record, starting on this line.
    Row(u64),
    /// A row that could not be read (already in the rejects file); `end` when
    /// nothing more can be read.
    Unreadable {
        end: bool,
    },
    End,
}

/// A CSV file with a header row.
pub struct Table {
    pub reader: csv::Reader<Box<dyn Read>>,
    pub headers: csv::ByteRecord,
    index: HashMap<String, usize>,
    pub name: String,
}

impl Table {
    /// Opens `path` (or stdin) as a CSV table.
    pub fn open(path: &str, encoding: Encoding) -> Result<Table> {
        let (reader, _) = decode(open(path)?, encoding)?;
        Table::from_reader(reader, if path == "-" { "<stdin>" } else { path })
    }

    pub fn from_reader(reader: Box<dyn Read>, name: &str) -> Result<Table> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(reader);
        let headers = reader
            .byte_headers()
            .with_context(|| format!("{name}: cannot read the header row"))?
            .clone();
        if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
            bail!("{name}: the file is empty (no header row)");
        }
        if headers
            .iter()
            .flatten()
            .any(|&b| b < 0x20 && b != b'\t' || b == 0x7f)
        {
            bail!("{name}: line 1: the header row is not CSV text (is this a binary file?)");
        }
        let mut index = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = std::str::from_utf8(h)
                .with_context(|| format!("{name}: line 1: the header is not text"))?;
            index.entry(h.trim().to_lowercase()).or_insert(i);
        }
        Ok(Table {
            reader,
            headers,
            index,
            name: name.to_string(),
        })
    }

    /// The index of a column, by case-insensitive name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Reads the next record into `record`. A row the CSV reader cannot read
    /// is written to the rejects file and skipped; an I/O error ends the file.
    pub fn next_record(
        &mut self,
        record: &mut csv::ByteRecord,
        rejects: &mut Rejects,
    ) -> Result<Next> {
        let line = self.reader.position().line();
        match self.reader.read_byte_record(record) {
            Ok(false) => Ok(Next::End),
            Ok(true) => Ok(Next::Row(record.position().map_or(line, |p| p.line()))),
            Err(e) => {
                rejects.write(
                    &csv::ByteRecord::new(),
                    line,
                    &format!("unreadable CSV: {e}"),
                )?;
                let end = matches!(e.kind(), csv::ErrorKind::Io(_));
                Ok(Next::Unreadable { end })
            }
        }
    }

    /// Fails naming every required column that is missing.
    pub fn require(&self, names: &[&str]) -> Result<()> {
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

/// The text of a field, trimmed; empty when the column is absent.
pub fn field<'r>(
    record: &'r csv::ByteRecord,
    col: Option<usize>,
    name: &str,
) -> Result<&'r str, String> {
    let Some(i) = col else { return Ok("") };
    let bytes = record.get(i).unwrap_or(b"");
    std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| format!("field {name} is not valid text in the file's encoding"))
}

/// Longest field accepted, in bytes: a guard against runaway quotes and binary files.
pub const FIELD_MAX_BYTES: usize = 1024;

/// Writes rejected rows: the input's columns plus `line` and `reason`. The file
/// is created at the first reject, so a clean run leaves no file behind.
pub struct Rejects {
    path: PathBuf,
    headers: csv::ByteRecord,
    /// Input columns copied to the rejects file: all but an earlier run's
    /// `line` and `reason`, so a rejects file can itself be re-imported.
    keep: Vec<usize>,
    writer: Option<csv::Writer<Box<dyn Write>>>,
    pub count: u64,
}

impl Rejects {
    pub fn new(path: PathBuf, headers: &csv::ByteRecord) -> Rejects {
        let keep: Vec<usize> = (0..headers.len())
            .filter(|&i| {
                let h = String::from_utf8_lossy(&headers[i]).trim().to_lowercase();
                h != "line" && h != "reason"
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
            writer: None,
            count: 0,
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
            header.push_field(b"reason");
            w.write_byte_record(&header)?;
            self.writer = Some(w);
        }
        match self.writer.as_mut() {
            Some(w) => Ok(w),
            None => unreachable!("writer was just created"),
        }
    }

    /// Writes one rejected input row.
    pub fn write(&mut self, record: &csv::ByteRecord, line: u64, reason: &str) -> Result<()> {
        let mut out = csv::ByteRecord::new();
        for &i in &self.keep {
            out.push_field(record.get(i).unwrap_or(b""));
        }
        let w = self.writer()?;
        out.push_field(line.to_string().as_bytes());
        out.push_field(reason.as_bytes());
        w.write_byte_record(&out)?;
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.flush()?;
        }
        Ok(())
    }
}
