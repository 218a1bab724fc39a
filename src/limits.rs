//! Named limits on everything that can grow, each with why it has that value.

/// `payment list` default page: a screenful, and cheap on a million-row ledger.
pub const DEFAULT_PAGE_ROWS: u32 = 50;
/// Upper bound of one `payment list`/`queue list` page, so no command reads the whole ledger at once.
pub const MAX_PAGE_ROWS: u32 = 10_000;
/// `payment list --search`: from this many characters the search matches the start of each
/// field through its index. Shorter text keeps the meaning search had before (anywhere in a
/// field), which reads the whole table: a prefix of one or two characters would match a
/// large share of the ledger anyway.
pub const SEARCH_MIN_PREFIX_CHARS: usize = 3;
/// `payment list --search`: matches are counted up to this many, then the page says
/// `total_capped`. Counting every match of a broad prefix (`ORD-2025-` on a million
/// payments) took over a second, while the app holds the ledger for each keystroke; 10,000
/// is more than anyone pages through and costs a few milliseconds to count.
pub const SEARCH_COUNT_CAP: u64 = 10_000;
/// A merchant's reason is for humans reading the audit trail; a paragraph is plenty.
pub const MAX_REASON_CHARS: usize = 500;
/// Base URLs are plain https origins; anything longer is a paste error.
pub const MAX_BASE_URL_CHARS: usize = 256;
/// Payments inserted per transaction by bulk import. Session ids are random, so each batch
/// touches index pages all over the file and every commit rewrites them: 100,000 rows
/// amortise that (10,000 ran at about half the speed, BENCHMARKS.md). The cost is the write
/// lock held about a second per batch; a concurrent `queue` waits within the busy timeout.
pub const BULK_INSERT_BATCH_ROWS: usize = 100_000;
/// An Ottu API key is a few dozen characters; a password a few more. Anything longer is a
/// paste of the wrong thing, and keyrings cap their entries.
pub const MAX_SECRET_CHARS: usize = 1024;
/// The shortest key or password `set-key` stores. A server that echoes the credential has
/// it scrubbed from every answer (`ottu::auth::Scrubber`); a very short secret cannot be
/// scrubbed safely (it would match ordinary text). Ottu's dashboard users are Django users,
/// whose passwords are at least 8 characters by default; API keys are far longer.
pub const MIN_SECRET_CHARS: usize = 8;
/// Ottu's dashboard users are Django users, whose usernames are at most 150 characters.
pub const MAX_BASIC_USER_CHARS: usize = 150;
/// Ottu client: the TCP and TLS handshake. A reachable server completes it in well under a
/// second even on a weak mobile link; past this the machine is treated as offline, which is
/// safe because nothing was sent yet.
pub const OTTU_CONNECT_TIMEOUT_MS: u64 = 10_000;
/// Ottu client: one whole request, from connect to the last byte of the answer. External
/// operations wait on the payment gateway, which can take tens of seconds; past this the
/// outcome is unknown and the operation is resent with the same Tracking-Key (safe, but
/// slower), so the bound is generous rather than tight.
pub const OTTU_REQUEST_TIMEOUT_MS: u64 = 60_000;
/// Ottu client: the largest JSON answer read. The biggest real one (a payment retrieve with
/// its checkout SDK payload) is tens of KB; anything near this is not Ottu talking.
pub const OTTU_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Ottu client: how much of an answer is kept with an operation for support: any error body
/// fits, and it stays small enough for a SQLite row and a log line.
pub const OTTU_MAX_KEPT_BODY_BYTES: usize = 8 * 1024;
/// Ottu client: the largest report file downloaded (held in memory for the importer, which
/// needs the whole XLSX anyway). A year of a busy merchant's transactions as CSV fits.
pub const OTTU_MAX_REPORT_BYTES: usize = 256 * 1024 * 1024;
/// Ottu client: redirects followed by a report download. Ottu answers one 302 to a
/// pre-signed S3 URL; a couple more tolerate a CDN in front of it.
pub const OTTU_MAX_REPORT_REDIRECTS: usize = 3;
/// Ottu client: reports listed per page; a page is a few KB of JSON.
pub const OTTU_REPORT_PAGE_ROWS: u32 = 100;
/// Ottu allows about this many report downloads an hour per merchant (its reports API);
/// past it a download answers 429, which `import-report --token` words with this number
/// (`report.download_limit`). Daftar does not count downloads itself: Ottu's count is the
/// one that matters, and other tools of the merchant's use it too.
pub const OTTU_REPORT_DOWNLOADS_PER_HOUR: u32 = 25;
/// `import-report --list`: pages of [`OTTU_REPORT_PAGE_ROWS`] read at most (1,000 reports,
/// years of daily ones); the count Ottu gives says when there are more.
pub const OTTU_MAX_REPORT_LIST_PAGES: u32 = 10;
/// Ottu client: the longest `Retry-After` honoured. Ottu's throttles last minutes; a longer
/// wait is more likely a wrong clock behind an HTTP-date, and a capped wait only costs one
/// more throttled request.
pub const OTTU_MAX_RETRY_AFTER_S: u64 = 3_600;
/// Ottu client: one whole report download, which can be tens of MB on a slow link; far
/// longer than a JSON call, and still ends a download that has stalled.
pub const OTTU_REPORT_DOWNLOAD_TIMEOUT_MS: u64 = 600_000;
/// Sync: operations in flight at once (each on a different payment). Four overlaps the
/// gateway's latency well without looking like a flood to Ottu's throttles.
pub const SYNC_DEFAULT_CONCURRENCY: usize = 4;
/// Sync: the most a merchant may ask for; more would only trip Ottu's rate limits.
pub const SYNC_MAX_CONCURRENCY: usize = 32;
/// Sync: first backoff after a transient failure; doubled each attempt.
pub const BACKOFF_BASE_MS: u64 = 500;
/// Sync: the longest backoff; a shop that waits more than a minute notices the queue stuck.
pub const BACKOFF_CEILING_MS: u64 = 60_000;
/// Sync: attempts with an unknown outcome (timeouts, 5xx, dropped connections, unreadable
/// answers) before an operation needs the merchant's attention. Retrying is safe (same
/// Tracking-Key), so this only stops an endless loop against a broken server.
pub const SYNC_MAX_UNKNOWN_ATTEMPTS: u32 = 10;
/// How far outside [first send, recorded] of our operation a report's child time may lie and
/// still be the child our request made (store::children::unnamed_child): report times
/// without an offset are read as UTC, a Gulf merchant's local time is 3-4 h ahead, and
/// clocks drift. A same-amount refund made in Ottu's dashboard days apart is not ours.
pub const UNNAMED_CHILD_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// Sync: how long to wait before probing again when Ottu is unreachable. Being offline
/// burns no attempt, so this only paces the probes.
pub const SYNC_OFFLINE_RETRY_MS: u64 = 5_000;
/// Sync: how long a profile stays left out of a run after an answer that was not Ottu's
/// (a redirect, a 404, a proxy's page) or when its credential is missing on this machine.
/// One request tells us the base URL does not answer as Ottu; sending the rest of its queue
/// would only repeat that. `--watch` looks again after this (a captive portal may clear);
/// `--once` has usually ended long before.
pub const SYNC_HELD_PROFILE_RETRY_MS: u64 = 60_000;
/// Sync `--once`: the longest backoff it waits for before stopping and leaving the rest
/// queued for the next run.
pub const SYNC_ONCE_MAX_WAIT_MS: u64 = 65_000;
/// Sync: how often the worker looks for profiles with due work it has no client for yet
/// (work queued for another profile while it runs, a hold that ended). That look reads
/// every due operation, so it is bounded in time, not done on every turn of a drain.
pub const SYNC_PROFILE_CHECK_MS: u64 = 1_000;
/// Sync `--watch`: how often an idle worker looks for new work queued by another process.
/// A long-running caller that queues through its own `Ledger` wakes the worker instead
/// (`SyncHandle::wake`), so the sync service polls far less often.
pub const SYNC_WATCH_POLL_MS: u64 = 1_000;
/// Sync service: how often an idle worker looks for work queued by another process (a
/// `daftar queue` beside the desktop app). The app's own queueing wakes it at once, so this
/// only bounds how long another process's work can wait; each look reads the due queue.
pub const SYNC_SERVICE_POLL_MS: u64 = 10_000;
/// Sync service: how long `SyncHandle::stop` waits for the worker thread to end. Requests in
/// flight are dropped at once (recovery resends them with their keys); the worker only has
/// to leave a store call, which its short busy timeout bounds.
pub const SYNC_STOP_WAIT_MS: u64 = 900;
/// However a run ends (a stop, an error), its requests still in flight are told to drop
/// and the worker waits this long at most for their tasks to end before it releases the
/// sync lock: a sync started right after never sends alongside them. Dropping a request
/// takes the runtime a moment; well inside `SYNC_STOP_WAIT_MS`.
pub const SYNC_TASKS_END_WAIT_MS: u64 = 300;
/// Sync service: the worker's own connection waits this long for another writer's lock
/// before the call fails and is retried after a backoff (with a `store_error` event): a
/// stuck peer is reported within a second instead of after the 10 s commands wait, and a
/// stop is never held up longer than this by a busy ledger.
pub const SYNC_STORE_BUSY_TIMEOUT_MS: u64 = 250;
/// Sync service: first wait after a failed store call (busy, I/O); doubled on each failure
/// in a row, up to `SYNC_STORE_RETRY_MAX_MS`. A store error never ends a watching worker.
pub const SYNC_STORE_RETRY_MS: u64 = 250;
/// Sync service: the longest wait between store retries: a ledger that stays locked or
/// unreadable is tried twice a minute, with an event each time.
pub const SYNC_STORE_RETRY_MAX_MS: u64 = 30_000;
/// Sync: how often, at most, a draining worker re-reads the per-profile queue numbers its
/// status shows (one grouped count over the waiting operations). The `outstanding` event
/// itself follows every recorded outcome exactly, without a read.
pub const SYNC_STATUS_REFRESH_MS: u64 = 1_000;
/// Import/refresh: payments fetched from Ottu at once. Retrieve is cheap for Ottu, but a
/// shop's uplink is not; four keeps a thousand-payment import to seconds.
pub const IMPORT_CONCURRENCY: usize = 4;
/// Import: payments written per transaction. Each commit is one fsync (`synchronous=FULL`),
/// a few ms; 500 payments take Ottu far longer to answer, so the commits cost little, and a
/// run that is killed loses at most one batch (importing again is harmless). The write lock
/// is held for milliseconds, so `queue` and reads go on during a long import.
pub const IMPORT_BATCH_PAYMENTS: usize = 500;
/// Import: the longest an answer waits to be written. On a slow link a batch takes minutes
/// to fill; this bounds what a kill (or a request that hangs) can cost.
pub const IMPORT_BATCH_MAX_MS: u64 = 2_000;
/// Import/refresh: ids read ahead of the oldest one not yet handed back (waiting for one of
/// the `IMPORT_CONCURRENCY` request slots, in flight, or answered and waiting its turn in
/// input order). Memory stays this many answers (well under a MB) whatever the file's size,
/// and requests keep going while a batch is written: at the sandbox's pace of thousands a
/// second, 64 ran dry during a write and took 20% longer (BENCHMARKS.md).
pub const IMPORT_READ_AHEAD: usize = 512;
/// Import: session ids given in one request (a command line, a form, an IPC call). They
/// are checked and held in memory before anything is sent, and a desktop call carries them
/// whole; more belong in a file of ids, which is read as a stream and has no cap. A command
/// line holds far fewer anyway (ARG_MAX is about 2 MB).
pub const IMPORT_MAX_IDS: usize = 10_000;
/// Import: the longest line read from `--from-file`. A session id is at most 128 characters
/// (up to 4 bytes each in UTF-8); a longer line is not an id and is skipped, unread.
pub const IMPORT_MAX_LINE_BYTES: usize = 1024;
/// Import: how much of a rejected line is shown: enough to find it in the file.
pub const IMPORT_MAX_REJECTED_TEXT_CHARS: usize = 100;
/// Import: failures and rejected lines listed in the summary (all are counted). A file of
/// a million wrong lines must not make a million-line report held in memory.
pub const IMPORT_MAX_LISTED: usize = 1_000;
/// Import/refresh: tries per id when Ottu does not answer (5xx, timeout, broken connection,
/// 429). A read changes nothing at Ottu, so retrying is safe; three ride out a blip.
pub const IMPORT_FETCH_ATTEMPTS: u32 = 3;
/// Import/refresh: the wait before the second try; doubled for each later one.
pub const IMPORT_RETRY_BASE_MS: u64 = 500;
/// Import/refresh: the longest `Retry-After` waited for before trying an id again. Longer
/// throttles count as Ottu not answering (and enough of them stop the run).
pub const IMPORT_MAX_THROTTLE_WAIT_MS: u64 = 60_000;
/// Import/refresh: ids in a row Ottu did not answer (after their retries) before the run
/// stops: Ottu is down or throttling hard, and going on would only fail every id after.
pub const IMPORT_MAX_CONSECUTIVE_UNAVAILABLE: usize = 10;
/// Import/refresh: how often a waiting run looks at the Ctrl-C flag. Fast enough to feel
/// immediate; the flag is an atomic load.
pub const IMPORT_CANCEL_POLL_MS: u64 = 100;
/// Logs: daily log files kept (the oldest is deleted when a new day starts). Two weeks
/// covers "it went wrong last week" when support asks; a busy day's file is a few MB.
pub const LOG_MAX_FILES: usize = 14;
/// Sync: attempt outcomes kept for the run's summary (`sync --json`). A long `--watch` run
/// would otherwise grow without bound; the progress events still report every one.
pub const SYNC_MAX_REPORTED_OUTCOMES: usize = 100_000;
/// Settlement (SETTLE, issue 10): business days a settlement line may come after its
/// payment's or refund's day and still match it. Acquirers in Kuwait settle KNET and card
/// payments one to three business days later (Friday and Saturday are not business days).
pub const SETTLEMENT_WINDOW_BUSINESS_DAYS: u32 = 3;
/// Settlement: the widest window `--window-days` accepts. Six weeks of business days covers
/// any acquirer's hold; wider, order numbers reused by a merchant start to match the wrong
/// payment.
pub const SETTLEMENT_MAX_WINDOW_BUSINESS_DAYS: u32 = 30;
/// The page cache of a reconciliation's scratch tables (the report's rows and the items,
/// a few hundred MB at a million rows), in KiB, for the run only. SQLite's default 2 MB
/// cache spilled them to the temp file and read them back on every join; 64 MiB took a
/// million-row run from about 22 s to 18 s (BENCHMARKS.md), 128 MiB gained little more.
pub const RECONCILE_TEMP_CACHE_KIB: i64 = 65_536;
