//! The rejects file of an import: the rows it did not take, with the original columns then
//! `line` and `reason`, for the merchant to fix in Excel and import again. One writer for
//! every import (reports; settlement files can use it too).

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::export::cells::neutralise;

/// The rejects file: the original columns, then `line` and `reason`; created at the first
/// reject, so a clean import leaves none. UTF-8 with a BOM (Excel then shows Arabic). Every
/// cell goes through the export's formula neutraliser (merchants open it in Excel). It is
/// written to `<path>.partial` and renamed when the run ends well: a cancelled or failed
/// run leaves no half-written file (dropping it unfinished removes the partial file).
pub struct RejectsFile {
    path: Option<PathBuf>,
    headers: Vec<String>,
    writer: Option<csv::Writer<File>>,
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

impl RejectsFile {
    /// `path`: where it goes (`None`: nowhere, every write is a no-op); `headers`: the
    /// file's own columns.
    pub fn new(path: Option<PathBuf>, headers: &[String]) -> RejectsFile {
        RejectsFile {
            path,
            headers: headers.to_vec(),
            writer: None,
        }
    }

    fn unwritable(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::invalid(
            "rejects",
            "table.unreadable",
            format!("cannot write the rejects file {}: {e}", path.display()),
        )
        .with("file", path.display().to_string())
    }

    /// One rejected record: its cells, its line and why (`code: reason`).
    pub fn write(&mut self, cells: &[String], line: u64, reason: &str) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.writer.is_none() {
            let mut file =
                File::create(partial_path(path)).map_err(|e| Self::unwritable(path, e))?;
            std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")
                .map_err(|e| Self::unwritable(path, e))?;
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .flexible(true)
                .from_writer(file);
            let mut header: Vec<Cow<'_, str>> =
                self.headers.iter().map(|h| neutralise(h)).collect();
            header.extend(["line".into(), "reason".into()]);
            writer
                .write_record(header.iter().map(|c| c.as_bytes()))
                .map_err(|e| Self::unwritable(path, e))?;
            self.writer = Some(writer);
        }
        if let Some(writer) = &mut self.writer {
            let mut record: Vec<Cow<'_, str>> = (0..self.headers.len())
                .map(|i| neutralise(cells.get(i).map(String::as_str).unwrap_or("")))
                .collect();
            let line = line.to_string();
            record.push(Cow::Borrowed(&line));
            record.push(neutralise(reason));
            writer
                .write_record(record.iter().map(|c| c.as_bytes()))
                .map_err(|e| Self::unwritable(path, e))?;
        }
        Ok(())
    }

    /// Completes the file (renamed into place); `None` when nothing was rejected.
    pub fn finish(mut self) -> Result<Option<String>> {
        match (self.writer.take(), self.path.take()) {
            (Some(writer), Some(path)) => {
                let file = writer
                    .into_inner()
                    .map_err(|e| Self::unwritable(&path, e.error()))?;
                file.sync_all().map_err(|e| Self::unwritable(&path, e))?;
                drop(file);
                std::fs::rename(partial_path(&path), &path)
                    .map_err(|e| Self::unwritable(&path, e))?;
                Ok(Some(path.display().to_string()))
            }
            _ => Ok(None),
        }
    }
}

impl Drop for RejectsFile {
    /// An unfinished run (cancelled, failed) leaves no partial file.
    fn drop(&mut self) {
        if let (Some(writer), Some(path)) = (self.writer.take(), &self.path) {
            drop(writer);
            let _ = std::fs::remove_file(partial_path(path));
        }
    }
}
