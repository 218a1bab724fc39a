//! Reading a report on its own thread while the run's thread writes it into SQLite: parsing
//! (CSV fields, amounts, dates, the duplicate check) and inserting cost about the same at a
//! million rows, so on two cores the reading phase takes the longer of the two instead of
//! their sum. Rows cross in batches through a bounded channel, so memory stays at a few
//! batches whatever the file's size, and the rows arrive in the file's order.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::input::{ReportRow, RowReject};
use super::run::RowSource;
use crate::error::Result;

/// Rows per batch: large enough that the channel costs nothing per row.
const BATCH_ROWS: usize = 1_024;
/// Batches parsed ahead of the writer.
const BATCHES_AHEAD: usize = 4;

type Item = Result<std::result::Result<ReportRow, RowReject>>;

/// One batch and how far through the file its last row was.
struct Batch {
    rows: Vec<Item>,
    bytes_read: u64,
}

/// The writer's end: a [`RowSource`] over the batches the reading thread sends.
struct Prefetched {
    rx: Receiver<Batch>,
    current: std::vec::IntoIter<Item>,
    bytes_read: u64,
    total_bytes: u64,
}

impl RowSource for Prefetched {
    fn next_row(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            // The reader hung up: the file is done (or it stopped on an error it sent).
            let batch = self.rx.recv().ok()?;
            self.bytes_read = batch.bytes_read;
            self.current = batch.rows.into_iter();
        }
    }

    fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    fn total_bytes(&self) -> u64 {
        self.total_bytes
    }
}

/// Reads `source` to its end on its own thread, sending batches; stops at the first error
/// of the file itself (sent as the batch's last item), or when the writer has gone.
fn read_ahead(source: &mut dyn RowSource, tx: &SyncSender<Batch>) {
    loop {
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut stop = false;
        while rows.len() < BATCH_ROWS {
            match source.next_row() {
                Some(item) => {
                    stop = item.is_err();
                    rows.push(item);
                    if stop {
                        break;
                    }
                }
                None => {
                    stop = true;
                    break;
                }
            }
        }
        let batch = Batch {
            rows,
            bytes_read: source.bytes_read(),
        };
        if tx.send(batch).is_err() || stop {
            return;
        }
    }
}

/// Runs `consume` over `source`'s rows, read ahead on a second thread. When `consume`
/// returns early (an error, a cancel) the reader stops at its next batch.
pub(super) fn with_prefetch<R>(
    source: &mut dyn RowSource,
    consume: impl FnOnce(&mut dyn RowSource) -> R,
) -> R {
    let total_bytes = source.total_bytes();
    let (tx, rx) = sync_channel(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || read_ahead(source, &tx));
        let mut rows = Prefetched {
            rx,
            current: Vec::new().into_iter(),
            bytes_read: 0,
            total_bytes,
        };
        // `rows` (the receiver) is dropped when `consume` returns, before the scope joins
        // the reader, so a reader blocked on a full channel is released.
        consume(&mut rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::reconcile::VecSource;

    fn reject(line: u64) -> std::result::Result<ReportRow, RowReject> {
        Err(RowReject {
            line,
            code: "row.bad_amount".into(),
            field: None,
            reason: String::new(),
        })
    }

    #[test]
    fn every_row_arrives_in_order() {
        let n = 3 * BATCH_ROWS as u64 + 7;
        let mut source = VecSource((1..=n).map(reject).collect::<Vec<_>>().into_iter());
        let lines = with_prefetch(&mut source, |rows| {
            let mut lines = Vec::new();
            while let Some(item) = rows.next_row() {
                lines.push(item.unwrap().unwrap_err().line);
            }
            lines
        });
        assert_eq!(lines, (1..=n).collect::<Vec<_>>());
    }

    /// A source that fails part way, like a file that is not UTF-8 after some rows.
    struct Failing(u64);

    impl RowSource for Failing {
        fn next_row(&mut self) -> Option<Item> {
            self.0 += 1;
            Some(if self.0 > 5 {
                Err(Error::Invariant {
                    what: "broken file".into(),
                })
            } else {
                Ok(reject(self.0))
            })
        }
        fn bytes_read(&self) -> u64 {
            self.0
        }
        fn total_bytes(&self) -> u64 {
            100
        }
    }

    #[test]
    fn the_files_own_error_ends_the_rows() {
        let mut source = Failing(0);
        let (ok, failed, bytes) = with_prefetch(&mut source, |rows| {
            let (mut ok, mut failed) = (0, 0);
            while let Some(item) = rows.next_row() {
                match item {
                    Ok(_) => ok += 1,
                    Err(_) => failed += 1,
                }
            }
            (ok, failed, rows.bytes_read())
        });
        assert_eq!((ok, failed, bytes), (5, 1, 6));
    }

    /// An endless source: the writer stops after a few rows and the reader must stop too.
    struct Endless(u64);

    impl RowSource for Endless {
        fn next_row(&mut self) -> Option<Item> {
            self.0 += 1;
            Some(Ok(reject(self.0)))
        }
        fn bytes_read(&self) -> u64 {
            0
        }
        fn total_bytes(&self) -> u64 {
            0
        }
    }

    #[test]
    fn a_writer_that_stops_early_stops_the_reader() {
        let mut source = Endless(0);
        let first = with_prefetch(&mut source, |rows| rows.next_row().map(|r| r.is_ok()));
        assert_eq!(first, Some(true));
        // The reader stopped within the channel's few batches, not at the end of time.
        assert!(
            source.0 <= ((BATCHES_AHEAD + 2) * BATCH_ROWS) as u64,
            "{}",
            source.0
        );
    }
}
