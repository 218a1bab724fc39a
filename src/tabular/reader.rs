//! A CSV or XLSX file as a stream of records: the header row, then one [`Record`] at a time,
//! so memory does not grow with the file. CSV: UTF-8 (a BOM is dropped), RFC 4180 quoting,
//! CRLF or LF, `,` or (sniffed from the header line) `;` or TAB. XLSX: the first worksheet,
//! read by a thread of its own through calamine's cell reader and handed over in small
//! batches; every cell becomes text here ([`cell_text`]) so the rest of the code reads one
//! kind of record. Empty rows are skipped (spreadsheets leave them at the end).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataRef, Reader, Xlsx};
use serde::Serialize;

use super::TabularError;

/// Rows the XLSX thread may read ahead of the importer: enough to keep both busy, small
/// enough that memory stays flat (a few hundred KB of text).
const XLSX_ROWS_AHEAD: usize = 512;
/// Bytes of the first line looked at to choose the CSV delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// Columns a record may have: a header row wider than this is not a report (and a row of
/// an XLSX with a cell at column XFD would otherwise allocate 16,384 strings per row).
pub const MAX_COLUMNS: usize = 1_000;

/// The two formats a report or settlement file comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    Csv,
    Xlsx,
}

impl TableFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Xlsx => "xlsx",
        }
    }

    /// From the extension, else from the first bytes (an XLSX is a ZIP: `PK\x03\x04`).
    pub fn detect(path: &Path) -> Result<TableFormat, TabularError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("xlsx") | Some("xlsm") => return Ok(TableFormat::Xlsx),
            Some("csv") | Some("txt") | Some("tsv") => return Ok(TableFormat::Csv),
            _ => {}
        }
        let mut magic = [0u8; 4];
        let mut file = File::open(path).map_err(|e| TabularError::open(path, e))?;
        let n = read_up_to(&mut file, &mut magic).map_err(|e| TabularError::open(path, e))?;
        Ok(if n == 4 && magic == *b"PK\x03\x04" {
            TableFormat::Xlsx
        } else {
            TableFormat::Csv
        })
    }
}

/// One data row: `line` is the 1-based physical line where it starts in a CSV (the header
/// is line 1; a quoted field with line breaks makes the next record start further down),
/// or the sheet's row number in an XLSX.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

impl Record {
    /// The cell at `index`, or "" past the end of a short row.
    pub fn cell(&self, index: usize) -> &str {
        self.cells.get(index).map(String::as_str).unwrap_or("")
    }
}

/// Reads a file's header, then its records one at a time.
pub struct TableReader {
    path: PathBuf,
    format: TableFormat,
    headers: Vec<String>,
    total_bytes: u64,
    inner: Inner,
}

enum Inner {
    Csv(CsvSource),
    Xlsx(XlsxSource),
    Done,
}

struct CsvSource {
    reader: csv::Reader<BufReader<File>>,
    record: csv::ByteRecord,
    /// 3 when a BOM was dropped: csv counts bytes after it.
    skipped: u64,
}

struct XlsxSource {
    rows: Receiver<Result<XlsxRow, TabularError>>,
    /// The sheet's last row (0-based) as its `<dimension>` says, for progress.
    last_row: u32,
    at_row: u32,
}

struct XlsxRow {
    row: u32,
    cells: Vec<String>,
}

impl TableReader {
    /// Opens the file and reads its header row (the first row with any text).
    pub fn open(path: &Path) -> Result<TableReader, TabularError> {
        let format = TableFormat::detect(path)?;
        let total_bytes = std::fs::metadata(path)
            .map_err(|e| TabularError::open(path, e))?
            .len();
        let mut reader = TableReader {
            path: path.to_path_buf(),
            format,
            headers: Vec::new(),
            total_bytes,
            inner: Inner::Done,
        };
        reader.inner = match format {
            TableFormat::Csv => Inner::Csv(open_csv(path)?),
            TableFormat::Xlsx => Inner::Xlsx(open_xlsx(path)?),
        };
        let header = match reader.next_record() {
            Some(Ok(record)) => record,
            Some(Err(e)) => return Err(e),
            None => {
                return Err(TabularError::NoHeader {
                    path: path.display().to_string(),
                });
            }
        };
        if header.cells.len() > MAX_COLUMNS {
            return Err(TabularError::TooWide {
                path: path.display().to_string(),
                columns: header.cells.len(),
                max: MAX_COLUMNS,
            });
        }
        reader.headers = header
            .cells
            .into_iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        // Trailing empty header cells (a spreadsheet's formatted but unused columns) name nothing.
        while reader.headers.last().is_some_and(String::is_empty) {
            reader.headers.pop();
        }
        Ok(reader)
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn format(&self) -> TableFormat {
        self.format
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size, for progress.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// How far into the file the reader is: exact for CSV, estimated from the row number
    /// for XLSX (its bytes are compressed).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Csv(csv) => csv.reader.position().byte() + csv.skipped,
            Inner::Xlsx(x) => {
                let done = u64::from(x.at_row) + 1;
                let all = u64::from(x.last_row) + 1;
                (self.total_bytes.saturating_mul(done) / all.max(1)).min(self.total_bytes)
            }
            Inner::Done => self.total_bytes,
        }
    }

    /// The next non-empty record; `None` at the end. After an error, `None`.
    pub fn next_record(&mut self) -> Option<Result<Record, TabularError>> {
        let next = match &mut self.inner {
            Inner::Csv(csv) => next_csv(csv, &self.path),
            Inner::Xlsx(x) => match x.rows.recv() {
                Ok(Ok(row)) => {
                    x.at_row = row.row;
                    Some(Ok(Record {
                        line: u64::from(row.row) + 1,
                        cells: row.cells,
                    }))
                }
                Ok(Err(e)) => Some(Err(e)),
                // The thread ended after its last row.
                Err(_) => None,
            },
            Inner::Done => None,
        };
        if !matches!(next, Some(Ok(_))) {
            self.inner = Inner::Done;
        }
        next
    }
}

impl Iterator for TableReader {
    type Item = Result<Record, TabularError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn open_csv(path: &Path) -> Result<CsvSource, TabularError> {
    let mut file = File::open(path).map_err(|e| TabularError::open(path, e))?;
    let mut head = vec![0u8; SNIFF_BYTES];
    let n = read_up_to(&mut file, &mut head).map_err(|e| TabularError::open(path, e))?;
    head.truncate(n);
    let skipped: u64 = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let delimiter = sniff_delimiter(&head[skipped as usize..]);
    // Start again past the BOM, so csv sees the header's first byte first.
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(skipped))
        .map_err(|e| TabularError::open(path, e))?;
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        // Records end at LF only, so csv's line count is the line a record starts on with
        // CRLF too (with CRLF as terminator it counts a line's LF at the next record); the
        // CR left at the end of the last cell is removed in `next_csv`.
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(BufReader::with_capacity(256 * 1024, file));
    Ok(CsvSource {
        reader,
        record: csv::ByteRecord::new(),
        skipped,
    })
}

/// `,` unless the first line (outside quotes) holds more `;` or TAB than commas: Excel in
/// many European locales writes `;`, and a TSV is sometimes named `.csv`.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let (mut comma, mut semi, mut tab, mut quoted) = (0, 0, 0, false);
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => comma += 1,
            b';' if !quoted => semi += 1,
            b'\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma {
        b'\t'
    } else {
        b','
    }
}

fn next_csv(csv: &mut CsvSource, path: &Path) -> Option<Result<Record, TabularError>> {
    loop {
        match csv.reader.read_byte_record(&mut csv.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Some(Err(TabularError::Read {
                    path: path.display().to_string(),
                    line,
                    detail: e.to_string(),
                }));
            }
        }
        let line = csv.record.position().map(|p| p.line()).unwrap_or(0);
        if csv
            .record
            .iter()
            .all(|c| c.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        let mut cells = Vec::with_capacity(csv.record.len());
        for cell in csv.record.iter() {
            match std::str::from_utf8(cell) {
                Ok(text) => cells.push(text.to_string()),
                Err(_) => {
                    return Some(Err(TabularError::NotUtf8 {
                        path: path.display().to_string(),
                        line,
                    }));
                }
            }
        }
        if let Some(last) = cells.last_mut()
            && last.ends_with('\r')
        {
            last.pop();
        }
        return Some(Ok(Record { line, cells }));
    }
}

fn open_xlsx(path: &Path) -> Result<XlsxSource, TabularError> {
    let bad = |detail: String| TabularError::BadWorkbook {
        path: path.display().to_string(),
        detail,
    };
    let mut workbook: Xlsx<BufReader<File>> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| bad(e.to_string()))?;
    let Some(sheet): Option<String> = workbook.sheet_names().into_iter().next() else {
        return Err(bad("the workbook has no worksheet".to_string()));
    };
    // The dimensions are read here, on the caller's thread, so a damaged sheet is an
    // error of `open`; the rows then stream from a thread that owns the workbook.
    let last_row = {
        let cells = workbook
            .worksheet_cells_reader(&sheet)
            .map_err(|e| bad(e.to_string()))?;
        cells.dimensions().end.0
    };
    let (tx, rx) = sync_channel(XLSX_ROWS_AHEAD);
    let display = path.display().to_string();
    std::thread::Builder::new()
        .name("daftar-xlsx".to_string())
        .spawn(move || stream_xlsx(workbook, &sheet, &display, &tx))
        .map_err(|e| bad(e.to_string()))?;
    Ok(XlsxSource {
        rows: rx,
        last_row,
        at_row: 0,
    })
}

/// Sends the sheet's non-empty rows in order; stops when the reader is dropped (a send fails).
fn stream_xlsx(
    mut workbook: Xlsx<BufReader<File>>,
    sheet: &str,
    path: &str,
    tx: &SyncSender<Result<XlsxRow, TabularError>>,
) {
    let bad = |detail: String| TabularError::BadWorkbook {
        path: path.to_string(),
        detail,
    };
    let mut cells = match workbook.worksheet_cells_reader(sheet) {
        Ok(cells) => cells,
        Err(e) => {
            let _ = tx.send(Err(bad(e.to_string())));
            return;
        }
    };
    let mut current: Option<XlsxRow> = None;
    let flush = |row: Option<XlsxRow>| -> bool {
        match row {
            Some(mut row) => {
                while row.cells.last().is_some_and(String::is_empty) {
                    row.cells.pop();
                }
                row.cells.is_empty() || tx.send(Ok(row)).is_ok()
            }
            None => true,
        }
    };
    loop {
        match cells.next_cell() {
            Ok(Some(cell)) => {
                let (row, col) = cell.get_position();
                let text = cell_text(cell.get_value());
                if current.as_ref().is_some_and(|c| c.row != row) && !flush(current.take()) {
                    return;
                }
                let entry = current.get_or_insert_with(|| XlsxRow {
                    row,
                    cells: Vec::new(),
                });
                let col = col as usize;
                if col >= MAX_COLUMNS {
                    // A stray cell far to the right: nothing a report maps.
                    continue;
                }
                if text.is_empty() {
                    continue;
                }
                if entry.cells.len() <= col {
                    entry.cells.resize(col + 1, String::new());
                }
                entry.cells[col] = text;
            }
            Ok(None) => {
                flush(current.take());
                return;
            }
            Err(e) => {
                let _ = flush(current.take());
                let _ = tx.send(Err(bad(e.to_string())));
                return;
            }
        }
    }
}

/// A cell as text: strings as they are; numbers as the shortest text that reads back as
/// the same f64 (`12.5`, `1000`: Rust's `Display` never uses an exponent), so an amount is
/// then parsed exactly and one that is not exact in decimal is refused, never rounded;
/// dates and times as RFC 3339 UTC (Excel keeps no zone).
pub fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            if ms == 0 {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
            }
        }
        DataRef::DateTime(dt) => float_text(dt.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    }
}

fn float_text(f: f64) -> String {
    if f == 0.0 {
        // -0.0 prints as "-0".
        "0".to_string()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn all(reader: &mut TableReader) -> Vec<Record> {
        reader.by_ref().map(Result::unwrap).collect()
    }

    #[test]
    fn csv_with_bom_crlf_quotes_and_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            &dir,
            "r.csv",
            "\u{feff}Session ID,Amount,Name\r\nS1,\"1,234.500\",\"Ali, \"\"the\"\" buyer\"\r\n\r\nS2,5,\"two\r\nlines\"\r\nS3,6,ثلاثة\r\n"
                .as_bytes(),
        );
        let mut r = TableReader::open(&path).unwrap();
        assert_eq!(r.format(), TableFormat::Csv);
        assert_eq!(r.headers(), ["Session ID", "Amount", "Name"]);
        let rows = all(&mut r);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].cells, ["S1", "1,234.500", "Ali, \"the\" buyer"]);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].cells[2], "two\r\nlines");
        assert_eq!(rows[2].line, 6);
        assert_eq!(rows[2].cells[2], "ثلاثة");
        assert_eq!(r.bytes_read(), r.total_bytes());
    }

    #[test]
    fn semicolon_and_tab_delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b\",c\n"), b',');
    }

    #[test]
    fn not_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "r.csv", b"a,b\n1,2\n3,\xC7\xE1\n");
        let mut r = TableReader::open(&path).unwrap();
        assert!(r.next_record().unwrap().is_ok());
        match r.next_record().unwrap() {
            Err(TabularError::NotUtf8 { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        assert!(r.next_record().is_none());
    }

    #[test]
    fn an_empty_file_has_no_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "r.csv", b"\xEF\xBB\xBF\r\n");
        assert!(matches!(
            TableReader::open(&path),
            Err(TabularError::NoHeader { .. })
        ));
        let missing = dir.path().join("nope.csv");
        assert!(matches!(
            TableReader::open(&missing),
            Err(TabularError::Open { .. })
        ));
    }

    #[test]
    fn xlsx_cells_become_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "Session ID").unwrap();
        sheet.write_string(0, 1, "Amount").unwrap();
        sheet.write_string(0, 2, "Created").unwrap();
        sheet.write_string(0, 4, "Name").unwrap();
        sheet.write_string(1, 0, "S1").unwrap();
        sheet.write_number(1, 1, 12.5).unwrap();
        let when = rust_xlsxwriter::ExcelDateTime::parse_from_str("2026-11-03T14:22:05").unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy hh:mm:ss");
        sheet.write_datetime_with_format(1, 2, &when, &fmt).unwrap();
        sheet.write_string(1, 4, "علي").unwrap();
        // Row 3 left empty; row 4 holds an integer-valued number.
        sheet.write_string(3, 0, "S2").unwrap();
        sheet.write_number(3, 1, 1000.0).unwrap();
        sheet.write_number(3, 2, 0.1 + 0.2).unwrap();
        book.save(&path).unwrap();

        let mut r = TableReader::open(&path).unwrap();
        assert_eq!(r.format(), TableFormat::Xlsx);
        assert_eq!(r.headers(), ["Session ID", "Amount", "Created", "", "Name"]);
        let rows = all(&mut r);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(
            rows[0].cells,
            ["S1", "12.5", "2026-11-03T14:22:05Z", "", "علي"]
        );
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].cells, ["S2", "1000", "0.30000000000000004"]);
    }

    #[test]
    fn xlsx_is_sniffed_without_its_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.bin");
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet().write_string(0, 0, "h").unwrap();
        book.save(&path).unwrap();
        assert_eq!(TableFormat::detect(&path).unwrap(), TableFormat::Xlsx);
        let bad = write(&dir, "bad.xlsx", b"not a zip");
        assert!(matches!(
            TableReader::open(&bad),
            Err(TabularError::BadWorkbook { .. })
        ));
    }
}
