//! XLSX with rust_xlsxwriter in constant-memory mode: each row goes to a temporary file
//! beside the output as soon as the next starts, so memory stays flat whatever the rows.
//!
//! - Typed cells: amounts are numbers with the currency's format (`#,##0.000` for KWD,
//!   `#,##0.00` for USD, `#,##0` for JPY) when a double holds the amount exactly (its
//!   shortest text is the amount), else the exact decimal as text; instants are Excel
//!   date-times in UTC (`yyyy-mm-dd hh:mm:ss`: Excel keeps no time zone), so the
//!   accountant can sort, filter and add them; ids and counts are numbers.
//! - Text is never a formula in an XLSX string cell; one that starts with `=`, `+`, `-`,
//!   `@`, TAB or CR also gets Excel's own "quote prefix" style (the hidden apostrophe), so
//!   editing the cell cannot turn it into one either. The text itself stays as it was.
//! - Frozen header row, an autofilter over the data rows (not the totals), right-to-left
//!   sheets for Arabic, a `Summary` sheet first for a reconciliation.
//! - Deterministic: fixed document properties and creation time (2000-01-01T00:00:00Z)
//!   and rust_xlsxwriter's fixed zip timestamps, so the same request writes the same bytes.

use std::path::Path;

use rust_xlsxwriter::{
    ColNum, DocProperties, ExcelDateTime, Format, RowNum, Workbook, Worksheet, XlsxError,
};

use super::cells::{amount_into, exact_f64, excel_serial, is_dangerous};
use super::columns::{
    CellKind, Column, LEDGER, Lang, OPERATIONS, RECONCILIATION, SUMMARY_CLASSES, TOTALS,
    summary_label,
};
use super::totals::CurrencyTotals;
use super::{Context, Sink, Ticker, What, Written, reconciliation, write_failed, write_rows};
use crate::error::{Error, Result};
use crate::money::Currency;

/// The zip compression level. Deflate is about a third of a large export's time at
/// rust_xlsxwriter's default level 6. Measured on 1,000,000 ledger rows (release, 2 busy
/// cores): level 6 30.2 s / 73 MB, level 3 25.9 s / 85 MB, level 1 26.6 s / 123 MB.
pub const XLSX_ZIP_LEVEL: u8 = 3;

/// The formats every cell uses, made once.
struct Formats {
    bold: Format,
    quoted: Format,
    instant: Format,
    /// By the currency's decimals (0 to 3 in Ottu's currencies; 4 for safety).
    amounts: Vec<Format>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            quoted: Format::new().set_quote_prefix(),
            instant: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            amounts: (0..=4)
                .map(|d| {
                    let pattern = if d == 0 {
                        "#,##0".to_string()
                    } else {
                        format!("#,##0.{}", "0".repeat(d))
                    };
                    Format::new().set_num_format(pattern)
                })
                .collect(),
        }
    }

    fn amount(&self, currency: Currency) -> &Format {
        let d = (currency.decimals() as usize).min(self.amounts.len() - 1);
        &self.amounts[d]
    }
}

pub(crate) struct XlsxSink<'a> {
    ws: &'a mut Worksheet,
    f: &'a Formats,
    row: RowNum,
    col: ColNum,
    header_row: Option<RowNum>,
    last_data_row: RowNum,
    columns: ColNum,
    in_totals: bool,
    buf: Vec<u8>,
    target: &'a Path,
}

impl<'a> XlsxSink<'a> {
    fn new(ws: &'a mut Worksheet, f: &'a Formats, target: &'a Path) -> XlsxSink<'a> {
        XlsxSink {
            ws,
            f,
            row: 0,
            col: 0,
            header_row: None,
            last_data_row: 0,
            columns: 0,
            in_totals: false,
            buf: Vec::with_capacity(32),
            target,
        }
    }

    fn fail(&self, e: XlsxError) -> Error {
        write_failed(self.target, e)
    }

    fn next(&mut self) {
        self.col += 1;
    }

    fn string(&mut self, text: &str, format: Option<&Format>) -> Result<()> {
        let (row, col) = (self.row, self.col);
        let f = self.f;
        let result = match (format, is_dangerous(text)) {
            (_, true) => self.ws.write_string_with_format(row, col, text, &f.quoted),
            (Some(format), false) => self.ws.write_string_with_format(row, col, text, format),
            (None, false) => self.ws.write_string(row, col, text),
        };
        result.map(|_| ()).map_err(|e| self.fail(e))?;
        self.next();
        Ok(())
    }

    /// The data rows' filter range: header to last data row, every column.
    fn filter(&mut self) -> Result<()> {
        if let Some(header) = self.header_row
            && self.columns > 0
        {
            let last = self.last_data_row.max(header);
            self.ws
                .autofilter(header, 0, last, self.columns - 1)
                .map_err(|e| write_failed(self.target, e))?;
        }
        Ok(())
    }
}

impl Sink for XlsxSink<'_> {
    fn header(&mut self, columns: &'static [Column], lang: Lang) -> Result<()> {
        let f = self.f;
        for c in columns {
            self.string(c.header(lang), Some(&f.bold))?;
        }
        if self.header_row.is_none() {
            self.header_row = Some(self.row);
            self.columns = columns.len() as ColNum;
        }
        self.row += 1;
        self.col = 0;
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<()> {
        self.string(text, None)
    }

    fn amount(&mut self, minor: i64, currency: Currency) -> Result<()> {
        let (row, col) = (self.row, self.col);
        match exact_f64(minor, currency.decimals()) {
            Some(value) => {
                let format = self.f.amount(currency);
                self.ws
                    .write_number_with_format(row, col, value, format)
                    .map_err(|e| write_failed(self.target, e))?;
                self.next();
                Ok(())
            }
            None => {
                amount_into(&mut self.buf, minor, currency.decimals());
                let text = String::from_utf8_lossy(&self.buf).into_owned();
                self.string(&text, None)
            }
        }
    }

    fn instant(&mut self, ms: i64) -> Result<()> {
        let (row, col) = (self.row, self.col);
        self.ws
            .write_number_with_format(row, col, excel_serial(ms), &self.f.instant)
            .map_err(|e| write_failed(self.target, e))?;
        self.next();
        Ok(())
    }

    fn integer(&mut self, n: i64) -> Result<()> {
        let (row, col) = (self.row, self.col);
        // Ids and counts: far below 2^53, exact in a double.
        self.ws
            .write_number(row, col, n as f64)
            .map_err(|e| write_failed(self.target, e))?;
        self.next();
        Ok(())
    }

    fn empty(&mut self) -> Result<()> {
        self.next();
        Ok(())
    }

    fn label(&mut self, text: &str) -> Result<()> {
        let f = self.f;
        self.string(text, Some(&f.bold))
    }

    fn end_row(&mut self) -> Result<()> {
        if !self.in_totals {
            self.last_data_row = self.row;
        }
        self.row += 1;
        self.col = 0;
        Ok(())
    }

    fn begin_totals(&mut self) -> Result<()> {
        self.in_totals = true;
        // One blank row between the data and its totals.
        self.row += 1;
        Ok(())
    }
}

fn columns_of(what: What) -> &'static [Column] {
    match what {
        What::Ledger => LEDGER,
        What::Operations => OPERATIONS,
        What::Reconciliation => RECONCILIATION,
    }
}

fn sheet_name(what: What) -> &'static str {
    match what {
        What::Ledger => "Ledger",
        What::Operations => "Operations",
        What::Reconciliation => "Items",
    }
}

fn set_widths(ws: &mut Worksheet, columns: &[Column], target: &Path) -> Result<()> {
    for (i, c) in columns.iter().enumerate() {
        let width = match c.kind {
            CellKind::Text => 20.0,
            CellKind::Amount => 16.0,
            CellKind::Instant => 20.0,
            CellKind::Integer => 10.0,
        };
        ws.set_column_width(i as ColNum, width)
            .map_err(|e| write_failed(target, e))?;
    }
    Ok(())
}

/// Writes the whole workbook to `temp` (renamed over `target` by the caller).
pub(crate) fn write(
    cx: &Context<'_>,
    what: What,
    temp: &Path,
    target: &Path,
    ticker: &mut Ticker<'_>,
) -> Result<Written> {
    let fail = |e: XlsxError| write_failed(target, e);
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(2000, 1, 1).map_err(fail)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    workbook.set_zip_compression_level(XLSX_ZIP_LEVEL);
    // The constant-memory sheets' row files go beside the output (same disk, and not a
    // RAM-backed /tmp).
    if let Some(dir) = temp.parent().filter(|d| !d.as_os_str().is_empty()) {
        workbook.set_tempdir(dir).map_err(fail)?;
    }
    let formats = Formats::new();
    if what == What::Reconciliation {
        let ws = workbook
            .add_worksheet_with_constant_memory()
            .map_err(fail)?;
        ws.set_name("Summary").map_err(fail)?;
        summary_sheet(cx, ws, &formats, target)?;
    }
    let ws = workbook
        .add_worksheet_with_constant_memory()
        .map_err(fail)?;
    ws.set_name(sheet_name(what)).map_err(fail)?;
    if cx.lang == Lang::Ar {
        ws.set_right_to_left(true);
    }
    ws.set_freeze_panes(1, 0).map_err(fail)?;
    set_widths(ws, columns_of(what), target)?;
    let mut sink = XlsxSink::new(ws, &formats, target);
    let written = write_rows(cx, what, &mut sink, ticker)?;
    sink.filter()?;
    workbook.save(temp).map_err(fail)?;
    Ok(written)
}

/// The reconciliation's `Summary` sheet: what was compared, the classes per currency,
/// the ledger's and the report's totals.
fn summary_sheet(
    cx: &Context<'_>,
    ws: &mut Worksheet,
    formats: &Formats,
    target: &Path,
) -> Result<()> {
    let header = reconciliation::find(cx)?;
    let lang = cx.lang;
    if lang == Lang::Ar {
        ws.set_right_to_left(true);
    }
    set_widths(ws, TOTALS, target)?;
    let mut s = XlsxSink::new(ws, formats, target);
    s.label(summary_label("reconciliation", lang))?;
    s.integer(header.id)?;
    s.end_row()?;
    s.label(summary_label("profile", lang))?;
    s.text(&header.profile)?;
    s.end_row()?;
    s.label(summary_label("from", lang))?;
    s.opt_instant(header.from_ms)?;
    s.end_row()?;
    s.label(summary_label("to", lang))?;
    s.opt_instant(header.to_ms)?;
    s.end_row()?;
    s.label(summary_label("source", lang))?;
    s.text(&header.source)?;
    s.end_row()?;
    s.label(summary_label("created", lang))?;
    s.instant(header.created_at_ms)?;
    s.end_row()?;
    s.end_row()?;

    s.label(summary_label("classes", lang))?;
    s.end_row()?;
    s.header(SUMMARY_CLASSES, lang)?;
    for line in reconciliation::class_lines(cx, header.id)? {
        s.text(&line.class)?;
        s.text(line.currency.code())?;
        s.integer(line.count)?;
        s.opt_amount(line.ledger_minor, Some(line.currency))?;
        s.opt_amount(line.report_minor, Some(line.currency))?;
        s.end_row()?;
    }
    s.end_row()?;

    let ledger = reconciliation::ledger_side_totals(cx, &header)?;
    let report = reconciliation::stored_totals(&header, "report_totals").unwrap_or_default();
    for (key, totals) in [("ledger_totals", ledger), ("report_totals", report)] {
        s.label(summary_label(key, lang))?;
        s.end_row()?;
        s.header(TOTALS, lang)?;
        for t in &totals {
            totals_row(&mut s, t)?;
        }
        s.end_row()?;
    }
    Ok(())
}

/// One [`CurrencyTotals`] line; amounts that do not parse (a damaged summary) as text.
fn totals_row(s: &mut XlsxSink<'_>, t: &CurrencyTotals) -> Result<()> {
    s.label("total")?;
    s.text(&t.currency)?;
    let currency = Currency::from_code(&t.currency).ok();
    for value in [
        Some(&t.paid),
        Some(&t.captured),
        Some(&t.refunded),
        Some(&t.voided),
        Some(&t.pending),
        t.fees.as_ref(),
    ] {
        let parsed = currency.zip(value).and_then(|(c, v)| {
            crate::money::Amount::parse(v, c)
                .ok()
                .map(|a| (a.minor(), c))
        });
        match (parsed, value) {
            (Some((minor, c)), _) => s.amount(minor, c)?,
            (None, Some(v)) => s.text(v)?,
            (None, None) => s.empty()?,
        }
    }
    s.end_row()
}
