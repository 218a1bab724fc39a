//! CSV per RFC 4180 (the csv crate: CRLF line ends, fields quoted only when they hold a
//! comma, quote or line break, quotes doubled), UTF-8 with a byte order mark unless asked
//! not to (Excel reads a CSV without one in the machine's legacy code page, which mangles
//! Arabic). Amounts are plain decimals with the currency's decimals; instants ISO 8601
//! UTC (`Z`); text cells neutralised ([`super::cells`]).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::cells::{amount_into, instant_into, is_dangerous};
use super::columns::{Column, Lang};
use super::{Sink, write_failed};
use crate::error::Result;
use crate::money::Currency;

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The csv writer's buffer: large writes, few system calls.
const BUFFER_BYTES: usize = 256 * 1024;

pub(crate) struct CsvSink {
    writer: ::csv::Writer<File>,
    /// One cell's bytes, reused for every cell (no allocation per row).
    buf: Vec<u8>,
    path: PathBuf,
}

impl CsvSink {
    pub(crate) fn new(mut file: File, bom: bool, path: &Path) -> Result<CsvSink> {
        if bom {
            file.write_all(BOM).map_err(|e| write_failed(path, e))?;
        }
        let writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .quote_style(::csv::QuoteStyle::Necessary)
            .buffer_capacity(BUFFER_BYTES)
            .from_writer(file);
        Ok(CsvSink {
            writer,
            buf: Vec::with_capacity(64),
            path: path.to_path_buf(),
        })
    }

    fn field(&mut self, bytes_from_buf: bool, bytes: &[u8]) -> Result<()> {
        let result = if bytes_from_buf {
            self.writer.write_field(&self.buf)
        } else {
            self.writer.write_field(bytes)
        };
        result.map_err(|e| write_failed(&self.path, e))
    }

    /// Flushes and syncs the file, so the rename that follows publishes complete bytes.
    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| write_failed(&path, e.error()))?;
        file.sync_all().map_err(|e| write_failed(&path, e))
    }
}

impl Sink for CsvSink {
    fn header(&mut self, columns: &'static [Column], lang: Lang) -> Result<()> {
        for c in columns {
            self.field(false, c.header(lang).as_bytes())?;
        }
        self.end_row()
    }

    fn text(&mut self, text: &str) -> Result<()> {
        if is_dangerous(text) {
            self.buf.clear();
            self.buf.push(b'\'');
            self.buf.extend_from_slice(text.as_bytes());
            self.field(true, &[])
        } else {
            self.field(false, text.as_bytes())
        }
    }

    fn amount(&mut self, minor: i64, currency: Currency) -> Result<()> {
        amount_into(&mut self.buf, minor, currency.decimals());
        self.field(true, &[])
    }

    fn instant(&mut self, ms: i64) -> Result<()> {
        instant_into(&mut self.buf, ms);
        self.field(true, &[])
    }

    fn integer(&mut self, n: i64) -> Result<()> {
        self.buf.clear();
        // Writing into a Vec cannot fail.
        let _ = write!(self.buf, "{n}");
        self.field(true, &[])
    }

    fn empty(&mut self) -> Result<()> {
        self.field(false, b"")
    }

    fn label(&mut self, text: &str) -> Result<()> {
        self.text(text)
    }

    fn end_row(&mut self) -> Result<()> {
        self.writer
            .write_record(None::<&[u8]>)
            .map_err(|e| write_failed(&self.path, e))
    }

    fn begin_totals(&mut self) -> Result<()> {
        Ok(())
    }
}
