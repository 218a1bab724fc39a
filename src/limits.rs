//! Named limits on everything that can grow, each with why it has that value.

/// `payment list` default page: a screenful, and cheap on a million-row ledger.
pub const DEFAULT_PAGE_ROWS: u32 = 50;
/// Upper bound of one `payment list`/`queue list` page, so no command reads the whole ledger at once.
pub const MAX_PAGE_ROWS: u32 = 10_000;
/// A merchant's reason is for humans reading the audit trail; a paragraph is plenty.
pub const MAX_REASON_CHARS: usize = 500;
/// Base URLs are plain https origins; anything longer is a paste error.
pub const MAX_BASE_URL_CHARS: usize = 256;
/// Payments inserted per transaction by bulk import: large enough to amortise the commit,
/// small enough that a failure rolls back little and the write lock is released often.
pub const BULK_INSERT_BATCH_ROWS: usize = 10_000;
