//! Rows leaving vipctl for a spreadsheet (SPEC "Spreadsheets, manuals, the
//! journal"): CSV (with `--excel`: a byte-order mark, and long digit strings
//! kept as text) or a real Excel workbook (`-o FILE.xlsx`), where each column
//! is typed by its name: phone, ID and card numbers as text, dates as dates,
//! money as numbers with two decimals, shares with four; a frozen header
//! row with filters, and widths fitted to the data.
//!
//! Exports and reports write their rows as text, exactly as the CSV shows
//! them; the workbook reads each value back by its column's kind. Large
//! exports stream through the writer's constant-memory mode (rows go to a
//! temporary file beside the output, not to memory).

use anyhow::{Context, Result};
use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// 2^53: every whole number up to it has an exact binary double.
const EXACT_IN_DOUBLE: u64 = 1 << 53;
use rust_xlsxwriter::{
    Chart, ChartType, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How a column's values are shown in a workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text.
    Text,
    /// An identifier made of digits (phone, ID, card, member and receipt
    /// numbers): always text, never a number Excel would round or shorten.
    Code,
    /// A whole number (points, counts).
    Int,
    /// Yuan with two decimals.
    Money,
    /// A share, four decimals.
    Share,
    /// A date (`YYYY-MM-DD`) or a stored moment (shown in the program's time zone).
    When,
}

/// The kind of a column, by its name (the names exports and reports use).
pub fn kind_of(column: &str) -> Kind {
    match column {
        "member_no" | "card" | "phone" | "id_number" | "receipt" | "original_receipt" | "ref" => {
            Kind::Code
        }
        "points"
        | "purchases_365d"
        | "id"
        | "program_version"
        | "owed"
        | "tier_pinned"
        | "points_earned"
        | "points_used"
        | "points_expiring_30d"
        | "points_expiring_year_end"
        | "members"
        | "receipts"
        | "members_enrolled"
        | "members_served"
        | "tier_ups"
        | "lost_dormant"
        | "days_since"
        | "days_until"
        | "rank"
        | "rows"
        | "expiring_30d"
        | "expiring_year_end" => Kind::Int,
        "amount" | "spend" | "spend_365d" | "member_sales" | "all_sales" | "value_yuan" => {
            Kind::Money
        }
        "members_share" | "spend_share" | "member_share" => Kind::Share,
        "tier_since" | "last_purchase" | "birthday" | "local_date" | "enrolled_at" | "at" => {
            Kind::When
        }
        _ => Kind::Text,
    }
}

/// Whether `path` names a workbook (`.xlsx`, any case).
pub fn is_xlsx(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Where rows go: CSV on a stream, or a workbook file.
pub enum Sink<'a> {
    Csv {
        w: Box<csv::Writer<&'a mut dyn Write>>,
        /// `--excel`: digit strings in code columns written as `="…"`.
        excel: bool,
        kinds: Option<Vec<Kind>>,
    },
    Xlsx(Box<Xlsx>),
}

impl<'a> Sink<'a> {
    /// CSV to `out`; with `excel`, a UTF-8 byte-order mark first.
    pub fn csv(out: &'a mut dyn Write, excel: bool) -> Result<Sink<'a>> {
        if excel {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        Ok(Sink::Csv {
            w: Box::new(csv::Writer::from_writer(out)),
            excel,
            kinds: None,
        })
    }

    /// A workbook at `path` with one sheet named `sheet`.
    pub fn xlsx(path: &Path, sheet: &str, tz: Tz, constant_memory: bool) -> Result<Sink<'a>> {
        Ok(Sink::Xlsx(Box::new(Xlsx::create(
            path,
            sheet,
            tz,
            constant_memory,
        )?)))
    }

    /// Writes one record; the first is the header.
    pub fn write_record<I, T>(&mut self, record: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        match self {
            Sink::Csv { w, excel, kinds } => match kinds {
                None => {
                    let names: Vec<String> =
                        record.into_iter().map(|s| s.as_ref().to_string()).collect();
                    *kinds = Some(names.iter().map(|n| kind_of(n)).collect());
                    w.write_record(&names)?;
                }
                Some(kinds) if *excel => {
                    let fields: Vec<String> = record
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| excel_safe(s.as_ref(), kinds.get(i).copied()))
                        .collect();
                    w.write_record(&fields)?;
                }
                Some(_) => w.write_record(record.into_iter().map(|s| s.as_ref().to_string()))?,
            },
            Sink::Xlsx(x) => {
                let fields: Vec<T> = record.into_iter().collect();
                let fields: Vec<&str> = fields.iter().map(AsRef::as_ref).collect();
                x.write_row(&fields)?;
            }
        }
        Ok(())
    }

    /// Adds a chart to a workbook (nothing for CSV).
    pub fn set_chart(&mut self, spec: ChartSpec) {
        if let Sink::Xlsx(x) = self {
            x.set_chart(spec);
        }
    }

    /// Flushes the CSV, or saves the workbook.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Csv { mut w, .. } => w.flush()?,
            Sink::Xlsx(x) => x.save()?,
        }
        Ok(())
    }
}

/// A digit string in a code column, written so that Excel opening the CSV
/// keeps it whole (`="13800138000"`): as a number it would show `1.38E+10`,
/// lose the digits of an 18-digit ID past the 15th, and drop leading zeros.
fn excel_safe(s: &str, kind: Option<Kind>) -> String {
    if kind == Some(Kind::Code) && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("=\"{s}\"")
    } else {
        s.to_string()
    }
}

/// The widest a fitted column gets, in characters.
const WIDTH_MAX: usize = 60;

/// A workbook being written, one sheet, row by row.
pub struct Xlsx {
    workbook: Workbook,
    path: PathBuf,
    tz: Tz,
    kinds: Vec<Kind>,
    names: Vec<String>,
    widths: Vec<usize>,
    /// The next row to write (0 is the header).
    row: u32,
    header: Format,
    money: Format,
    share: Format,
    date: Format,
    moment: Format,
    chart: Option<ChartSpec>,
}

/// A chart of two columns by a category column, drawn beside the data.
#[derive(Debug, Clone)]
pub struct ChartSpec {
    pub title: String,
    pub category: String,
    /// Drawn as columns on the left axis.
    pub bars: String,
    /// Drawn as a line on the right axis.
    pub line: String,
}

fn xlsx_err(e: XlsxError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

impl Xlsx {
    /// A new workbook at `path` with one sheet named `sheet`.
    pub fn create(path: &Path, sheet: &str, tz: Tz, constant_memory: bool) -> Result<Xlsx> {
        let mut workbook = Workbook::new();
        // The rows of a constant-memory sheet wait in a temporary file:
        // beside the output, so a large export does not fill a /tmp held in memory.
        if constant_memory {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            workbook.set_tempdir(dir).map_err(xlsx_err)?;
        }
        let ws = if constant_memory {
            workbook.add_worksheet_with_constant_memory()
        } else {
            workbook.add_worksheet()
        };
        ws.set_name(sheet).map_err(xlsx_err)?;
        Ok(Xlsx {
            workbook,
            path: path.to_path_buf(),
            tz,
            kinds: Vec::new(),
            names: Vec::new(),
            widths: Vec::new(),
            row: 0,
            header: Format::new().set_bold().set_align(FormatAlign::Center),
            money: Format::new().set_num_format("#,##0.00"),
            share: Format::new().set_num_format("0.0000"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            moment: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            chart: None,
        })
    }

    /// Adds a chart when the workbook is saved.
    pub fn set_chart(&mut self, spec: ChartSpec) {
        self.chart = Some(spec);
    }

    fn sheet(&mut self) -> Result<&mut Worksheet> {
        self.workbook.worksheet_from_index(0).map_err(xlsx_err)
    }

    /// Writes one row; the first is the header.
    pub fn write_row(&mut self, fields: &[&str]) -> Result<()> {
        let row = self.row;
        if row == 0 {
            self.names = fields.iter().map(|s| s.to_string()).collect();
            self.kinds = fields.iter().map(|n| kind_of(n)).collect();
            self.widths = fields.iter().map(|n| n.chars().count() + 3).collect();
            let header = self.header.clone();
            let ws = self.sheet()?;
            for (col, name) in fields.iter().enumerate() {
                ws.write_string_with_format(0, col_index(col)?, *name, &header)
                    .map_err(xlsx_err)?;
            }
        } else {
            for (col, value) in fields.iter().enumerate() {
                let kind = self.kinds.get(col).copied().unwrap_or(Kind::Text);
                let width = self.write_cell(row, col, kind, value)?;
                if let Some(w) = self.widths.get_mut(col) {
                    *w = (*w).max(width);
                }
            }
        }
        self.row = row
            .checked_add(1)
            .filter(|r| *r <= 1_048_576)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "more rows than an Excel sheet holds (1,048,576): export to CSV instead"
                )
            })?;
        Ok(())
    }

    /// Writes one cell as its column's kind says; returns its width in characters.
    fn write_cell(&mut self, row: u32, col: usize, kind: Kind, value: &str) -> Result<usize> {
        if value.is_empty() {
            return Ok(0);
        }
        let c = col_index(col)?;
        let tz = self.tz;
        let (money, share, date, moment) = (
            self.money.clone(),
            self.share.clone(),
            self.date.clone(),
            self.moment.clone(),
        );
        let ws = self.sheet()?;
        let r = match kind {
            // A workbook's numbers are binary doubles: a value that would not
            // survive the round trip (beyond 2^53 units of its last digit) is
            // written as text, so no point or fen is ever changed by Excel.
            Kind::Int => match value.parse::<i64>() {
                #[allow(clippy::cast_precision_loss)]
                Ok(n) if n.unsigned_abs() <= EXACT_IN_DOUBLE => {
                    ws.write_number(row, c, n as f64).map(|_| ())
                }
                _ => ws.write_string(row, c, value).map(|_| ()),
            },
            Kind::Money | Kind::Share => {
                let exact =
                    |d: &Decimal| d.mantissa().unsigned_abs() <= u128::from(EXACT_IN_DOUBLE);
                match Decimal::from_str(value)
                    .ok()
                    .filter(exact)
                    .and_then(|d| d.to_f64())
                {
                    Some(n) => {
                        let f = if kind == Kind::Money { &money } else { &share };
                        ws.write_number_with_format(row, c, n, f).map(|_| ())
                    }
                    None => ws.write_string(row, c, value).map(|_| ()),
                }
            }
            Kind::When => match when(value, tz) {
                Some((dt, true)) => ws
                    .write_datetime_with_format(row, c, &dt, &moment)
                    .map(|_| ()),
                Some((dt, false)) => ws
                    .write_datetime_with_format(row, c, &dt, &date)
                    .map(|_| ()),
                None => ws.write_string(row, c, value).map(|_| ()),
            },
            Kind::Text | Kind::Code => ws.write_string(row, c, value).map(|_| ()),
        };
        r.map_err(xlsx_err)?;
        Ok(match kind {
            Kind::When if value.len() > 10 => 19,
            Kind::Money => value.len() + value.len() / 3 + 1,
            _ => display_width(value),
        })
    }

    /// Fits the widths, freezes the header, sets the filters, draws the chart, saves.
    pub fn save(mut self) -> Result<()> {
        let cols = self.names.len();
        let last_row = self.row.saturating_sub(1);
        let widths = self.widths.clone();
        let chart = self.chart.take();
        let names = self.names.clone();
        {
            let ws = self.sheet()?;
            if cols > 0 {
                ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
                ws.autofilter(0, 0, last_row, col_index(cols - 1)?)
                    .map_err(xlsx_err)?;
            }
            for (col, w) in widths.iter().enumerate() {
                let w = u32::try_from((*w).clamp(6, WIDTH_MAX)).unwrap_or(6);
                ws.set_column_width(col_index(col)?, w).map_err(xlsx_err)?;
            }
        }
        if let Some(spec) = chart {
            let sheet_name = self.sheet()?.name();
            let find = |n: &str| names.iter().position(|c| c == n);
            if let (Some(cat), Some(bars), Some(line)) =
                (find(&spec.category), find(&spec.bars), find(&spec.line))
            {
                if last_row >= 1 {
                    let range = |col: usize| -> Result<(&str, u32, u16, u32, u16)> {
                        let c = col_index(col)?;
                        Ok((sheet_name.as_str(), 1, c, last_row, c))
                    };
                    let mut bar_chart = Chart::new(ChartType::Column);
                    bar_chart
                        .add_series()
                        .set_name((sheet_name.as_str(), 0, col_index(bars)?))
                        .set_categories(range(cat)?)
                        .set_values(range(bars)?);
                    let mut line_chart = Chart::new(ChartType::Line);
                    line_chart
                        .add_series()
                        .set_name((sheet_name.as_str(), 0, col_index(line)?))
                        .set_categories(range(cat)?)
                        .set_values(range(line)?)
                        .set_secondary_axis(true);
                    bar_chart.combine(&line_chart);
                    bar_chart.title().set_name(&spec.title);
                    bar_chart.y_axis().set_name(&spec.bars);
                    bar_chart.y2_axis().set_name(&spec.line);
                    let at = col_index(cols + 1)?;
                    self.sheet()?
                        .insert_chart(1, at, &bar_chart)
                        .map_err(xlsx_err)?;
                }
            }
        }
        self.workbook
            .save(&self.path)
            .map_err(xlsx_err)
            .with_context(|| format!("cannot write workbook {}", self.path.display()))?;
        Ok(())
    }
}

fn col_index(col: usize) -> Result<u16> {
    u16::try_from(col)
        .ok()
        .filter(|c| *c < 16_384)
        .ok_or_else(|| anyhow::anyhow!("more columns than an Excel sheet holds"))
}

/// A date or a stored moment as an Excel date-time; `true` when it has a time.
fn when(value: &str, tz: Tz) -> Option<(ExcelDateTime, bool)> {
    if value.len() == 10 {
        let d = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
        let dt = ExcelDateTime::from_ymd(
            u16::try_from(d.year()).ok()?,
            u8::try_from(d.month()).ok()?,
            u8::try_from(d.day()).ok()?,
        )
        .ok()?;
        return Some((dt, false));
    }
    let m = crate::rules::time::read_stored(value)?.with_timezone(&tz);
    let dt = ExcelDateTime::from_ymd(
        u16::try_from(m.year()).ok()?,
        u8::try_from(m.month()).ok()?,
        u8::try_from(m.day()).ok()?,
    )
    .ok()?
    .and_hms(
        u16::try_from(m.hour()).ok()?,
        u8::try_from(m.minute()).ok()?,
        m.second(),
    )
    .ok()?;
    Some((dt, true))
}

/// Characters as a spreadsheet shows them: CJK (and other wide) characters
/// take two columns.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_csv_keeps_digit_codes_as_text() {
        assert_eq!(
            excel_safe("13800138000", Some(Kind::Code)),
            "=\"13800138000\""
        );
        assert_eq!(
            excel_safe("110101199003070011", Some(Kind::Code)),
            "=\"110101199003070011\""
        );
        assert_eq!(
            excel_safe("11010119900307001X", Some(Kind::Code)),
            "11010119900307001X"
        );
        assert_eq!(excel_safe("138****8000", Some(Kind::Code)), "138****8000");
        assert_eq!(excel_safe("120", Some(Kind::Int)), "120");
        assert_eq!(excel_safe("", Some(Kind::Code)), "");
    }

    #[test]
    fn columns_are_typed_by_name() {
        assert_eq!(kind_of("phone"), Kind::Code);
        assert_eq!(kind_of("spend_365d"), Kind::Money);
        assert_eq!(kind_of("spend_share"), Kind::Share);
        assert_eq!(kind_of("last_purchase"), Kind::When);
        assert_eq!(kind_of("points"), Kind::Int);
        assert_eq!(kind_of("name"), Kind::Text);
    }

    #[test]
    fn moments_are_local_dates_are_dates() {
        let tz = chrono_tz::Asia::Shanghai;
        assert!(matches!(when("2026-11-24", tz), Some((_, false))));
        assert!(matches!(when("2026-11-24T02:15:00Z", tz), Some((_, true))));
        assert!(when("**-12-31", tz).is_none());
        assert!(when("", tz).is_none());
    }
}
