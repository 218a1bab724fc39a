//! A file of session ids, read one line at a time: memory stays the same whatever the
//! file's size, and a bad line is reported with its number instead of refusing the file.
//!
//! A line is trimmed; blank lines and `#` comments are skipped; a UTF-8 byte order mark
//! at the start (as spreadsheet programs write) is ignored. A line longer than
//! [`IMPORT_MAX_LINE_BYTES`] is skipped to its end without being held in memory.

use std::io::{self, BufRead, Read};

use serde::Serialize;

use crate::limits::{IMPORT_MAX_LINE_BYTES, IMPORT_MAX_REJECTED_TEXT_CHARS};
use crate::model::SessionId;

/// A line that is not a session id, as the merchant will look for it in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RejectedLine {
    /// 1-based, as editors count.
    pub line: u64,
    /// The line as read (trimmed), cut at [`IMPORT_MAX_REJECTED_TEXT_CHARS`].
    pub text: String,
    pub error: String,
}

/// One line that is not blank or a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdLine {
    Id { line: u64, id: SessionId },
    Rejected(RejectedLine),
}

/// Reads session ids from `reader`, one per line.
pub struct IdLines<R> {
    reader: R,
    line: u64,
    bytes_read: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> IdLines<R> {
    pub fn new(reader: R) -> IdLines<R> {
        IdLines {
            reader,
            line: 0,
            bytes_read: 0,
            buf: Vec::with_capacity(IMPORT_MAX_LINE_BYTES + 1),
        }
    }

    /// Bytes consumed so far: the progress through the file.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Lines read so far, including blank lines and comments.
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The next id or rejected line; `None` at the end of the file.
    pub fn next_line(&mut self) -> io::Result<Option<IdLine>> {
        loop {
            self.buf.clear();
            let limit = IMPORT_MAX_LINE_BYTES as u64 + 1;
            let read = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.buf)?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes_read += read as u64;
            let ended = self.buf.last() == Some(&b'\n');
            if !ended && self.buf.len() > IMPORT_MAX_LINE_BYTES {
                self.skip_rest_of_line()?;
                return Ok(Some(self.reject(
                    String::from_utf8_lossy(&self.buf).into_owned(),
                    format!(
                        "the line is longer than {IMPORT_MAX_LINE_BYTES} bytes: one session id per line"
                    ),
                )));
            }
            let raw = match std::str::from_utf8(&self.buf) {
                Ok(text) => text,
                Err(_) => {
                    let text = String::from_utf8_lossy(&self.buf).into_owned();
                    return Ok(Some(self.reject(
                        text,
                        "the line is not UTF-8 text: save the file as UTF-8".to_string(),
                    )));
                }
            };
            let raw = if self.line == 1 {
                raw.strip_prefix('\u{feff}').unwrap_or(raw)
            } else {
                raw
            };
            let text = raw.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            return Ok(Some(match SessionId::parse_new(text) {
                Ok(id) => IdLine::Id {
                    line: self.line,
                    id,
                },
                Err(e) => {
                    let text = text.to_string();
                    self.reject(text, e.to_string())
                }
            }));
        }
    }

    /// Consumes the rest of an over-long line without keeping it.
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            let (used, done) = match available.iter().position(|b| *b == b'\n') {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            self.reader.consume(used);
            self.bytes_read += used as u64;
            if done {
                return Ok(());
            }
        }
    }

    fn reject(&self, text: String, error: String) -> IdLine {
        let text = text.trim();
        let mut kept: String = text.chars().take(IMPORT_MAX_REJECTED_TEXT_CHARS).collect();
        if kept.len() < text.len() {
            kept.push('…');
        }
        IdLine::Rejected(RejectedLine {
            line: self.line,
            text: kept,
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> (Vec<IdLine>, u64) {
        let mut lines = IdLines::new(input);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(line);
        }
        (out, lines.bytes_read())
    }

    fn id(line: u64, s: &str) -> IdLine {
        IdLine::Id {
            line,
            id: SessionId::parse(s).unwrap(),
        }
    }

    #[test]
    fn ids_comments_blanks_and_crlf() {
        let input = b"\xef\xbb\xbfs1\r\n# a comment\n\n  s2  \ns3";
        let (lines, bytes) = read_all(input);
        assert_eq!(lines, vec![id(1, "s1"), id(4, "s2"), id(5, "s3")]);
        assert_eq!(bytes, input.len() as u64);
    }

    #[test]
    fn bad_lines_keep_their_numbers_and_the_rest_is_read() {
        let mut input = b"s1\nbad id\n\xff\xfe\n".to_vec();
        input.extend(vec![b'x'; IMPORT_MAX_LINE_BYTES * 3]);
        input.extend(b"\ns5\n");
        let (lines, bytes) = read_all(&input);
        assert_eq!(bytes, input.len() as u64);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], id(1, "s1"));
        assert_eq!(lines[4], id(5, "s5"));
        let rejected: Vec<_> = lines[1..4]
            .iter()
            .map(|l| match l {
                IdLine::Rejected(r) => r.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            [2, 3, 4]
        );
        assert_eq!(rejected[0].text, "bad id");
        assert!(rejected[0].error.contains("session id"), "{rejected:?}");
        assert!(rejected[1].error.contains("UTF-8"));
        assert!(rejected[2].error.contains("longer than"));
        assert!(rejected[2].text.chars().count() <= IMPORT_MAX_REJECTED_TEXT_CHARS + 1);
    }

    /// Ids typed by the merchant keep to the documented alphabet: nothing that could change
    /// the request's path or look like another id.
    #[test]
    fn ids_outside_the_alphabet_are_rejected() {
        let (lines, _) = read_all("../../etc/passwd\nab%2Fc\na\u{200b}b\nok-1\n".as_bytes());
        assert_eq!(lines.len(), 4);
        assert!(
            lines[..3].iter().all(|l| matches!(l, IdLine::Rejected(_))),
            "{lines:?}"
        );
        assert_eq!(lines[3], id(4, "ok-1"));
    }
}
