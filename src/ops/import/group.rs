//! Step 1 of a receipt: grouping rows. Consecutive rows with the same
//! (store, receipt) form one receipt, accepted or rejected whole. A row the
//! CSV reader cannot read at all goes to the rejects file and does not end
//! the receipt around it; a row it read but found malformed stays in its
//! receipt with the flaw, which rejects the receipt.

use super::parse::Cols;
use crate::csvio::{self, Next, Rejects, Table};
use anyhow::Result;

/// A receipt's store and number, as the grouping compares them.
type Key = (Vec<u8>, Vec<u8>);

/// One receipt's rows with their input lines, and why each cannot be
/// trusted, if it cannot.
pub(super) struct Group<'a> {
    pub rows: &'a [(csv::ByteRecord, u64)],
    pub flaws: &'a [Option<String>],
}

impl Group<'_> {
    /// The input line of the last row.
    pub fn last_line(&self) -> u64 {
        self.rows.last().map_or(0, |r| r.1)
    }
}

/// Reads a table receipt by receipt into a window: the receipts read since
/// the window was last cleared stay in memory, so that the import can look
/// up a window's receipts in the store at once (`chunks`). The window's
/// buffers are reused.
#[derive(Default)]
pub(super) struct Grouper {
    buf: Vec<(csv::ByteRecord, u64)>,
    flaws: Vec<Option<String>>,
    /// Rows of the window in use.
    len: usize,
    /// Where each receipt of the window ends in `buf`.
    ends: Vec<usize>,
    /// The row read past the end of the last receipt, which starts the next.
    record: csv::ByteRecord,
    pending: Option<(u64, Option<String>, Key)>,
    ended: bool,
    /// Rows read so far, unreadable ones included.
    pub rows_read: u64,
}

impl Grouper {
    fn key(r: &csv::ByteRecord, c: &Cols) -> Key {
        let f = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .map(|b| match std::str::from_utf8(b) {
                    Ok(t) => csvio::trim_code(t).as_bytes().to_vec(),
                    Err(_) => b.trim_ascii().to_vec(),
                })
                .unwrap_or_default()
        };
        (f(c.store), f(c.receipt))
    }

    /// The next receipt, alone in the window; `None` at the end.
    pub fn next(
        &mut self,
        table: &mut Table,
        cols: &Cols,
        rejects: &mut Rejects,
    ) -> Result<Option<Group<'_>>> {
        self.clear();
        Ok(self.read(table, cols, rejects)?.then(|| self.group(0)))
    }

    /// Empties the window.
    pub fn clear(&mut self) {
        self.len = 0;
        self.ends.clear();
    }

    /// Receipts in the window.
    pub fn receipts(&self) -> usize {
        self.ends.len()
    }

    /// Rows in the window.
    pub fn rows(&self) -> usize {
        self.len
    }

    /// The window's `i`-th receipt.
    pub fn group(&self, i: usize) -> Group<'_> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let end = self.ends[i];
        Group {
            rows: &self.buf[start..end],
            flaws: &self.flaws[start..end],
        }
    }

    /// Reads the next receipt into the window; false at the end.
    pub fn read(&mut self, table: &mut Table, cols: &Cols, rejects: &mut Rejects) -> Result<bool> {
        let base = self.len;
        let mut n = 0;
        let mut current = Key::default();
        if let Some((line, flaw, key)) = self.pending.take() {
            self.push(base, line, flaw);
            n = 1;
            current = key;
        }
        while !self.ended {
            let (line, flaw) = match table.next_record(&mut self.record, rejects)? {
                Next::End => {
                    self.ended = true;
                    break;
                }
                Next::Unreadable { end } => {
                    self.rows_read += 1;
                    self.ended = end;
                    continue;
                }
                Next::Row(line) => (line, None),
                Next::Malformed(line, reason) => (line, Some(reason)),
            };
            self.rows_read += 1;
            let key = Grouper::key(&self.record, cols);
            if n > 0 && key != current {
                self.pending = Some((line, flaw, key));
                break;
            }
            current = key;
            self.push(base + n, line, flaw);
            n += 1;
        }
        if n > 0 {
            self.len = base + n;
            self.ends.push(self.len);
        }
        Ok(n > 0)
    }

    /// Moves the row just read to position `at` of the window.
    fn push(&mut self, at: usize, line: u64, flaw: Option<String>) {
        if self.buf.len() <= at {
            self.buf.push((csv::ByteRecord::new(), 0));
            self.flaws.push(None);
        }
        std::mem::swap(&mut self.buf[at].0, &mut self.record);
        self.buf[at].1 = line;
        self.flaws[at] = flaw;
    }
}
