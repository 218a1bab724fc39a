// Generated from the Rust types by tests/bindings.rs (ts-rs). Do not edit by hand:
// change the Rust type, then run
//   DAFTAR_UPDATE_BINDINGS=1 cargo test --locked --test bindings
// Amounts are decimal strings in the currency's decimals (never numbers); times are
// RFC 3339 strings; ids are whole numbers well inside a JavaScript number's exact range.

// --- words (enums, serialized as these strings) ---

/**
 * The state of an Ottu payment transaction (the parent).
 */
export type PaymentState = "created" | "pending" | "attempted" | "authorized" | "paid" | "failed" | "canceled" | "expired" | "invalided" | "cod" | "cash" | "refunded" | "voided";

/**
 * Where a payment row came from.
 */
export type PaymentSource = "manual" | "ottu" | "report";

/**
 * What the merchant asks Ottu to do to a payment.
 */
export type OperationKind = "refund" | "capture" | "void" | "cancel" | "expire" | "delete";

/**
 * Where an operation is in its life: the queue holds `queued`, `in_flight`,
 * `blocked` (held by an earlier failure on the same payment) and `needs_attention`
 * (outcome unknown after the attempts limit); the rest are final.
 */
export type OperationStatus = "queued" | "in_flight" | "succeeded" | "failed" | "needs_attention" | "dropped" | "blocked";

/**
 * The state of a child transaction Ottu creates for a succeeded external operation.
 */
export type ChildState = "paid" | "refunded" | "refund_queued" | "refund_rejected" | "voided";

/**
 * How a profile authenticates to Ottu (the secret itself lives only in the OS keyring).
 */
export type AuthKind = "api_key" | "basic";

// --- views (what the facade returns) ---

export type ProfileView = { name: string, base_url: string, currency: string, created_at: string, };

/**
 * One profile with how it authenticates: whether a key is stored, never the key.
 */
export type ProfileDetail = { name: string, base_url: string, currency: string, created_at: string, auth: AuthKind, 
/**
 * The dashboard user for Basic auth (a name, not a secret).
 */
basic_user: string | null, 
/**
 * Whether the OS keyring holds the key (or the Basic user's password).
 */
key_stored: boolean, 
/**
 * Why the profile's queue is paused (Ottu refused the credential), if it is.
 */
paused_reason: string | null, 
/**
 * `paused_reason`'s code and the values it is made from, for a UI's own words; absent
 * for a pause stored before codes were.
 */
paused_code?: string, paused_params?: { [key in string]: JsonValue }, paused_at: string | null, };

/**
 * The profile after `profile set` (the same fields as [`ProfileView`]), what changed, and
 * what the merchant must do next.
 */
export type ProfileChanged = { 
/**
 * `base_url` and/or `currency`; empty when the values given were the current ones.
 */
changed: Array<string>, 
/**
 * The base URL changed: the key stored for the old host is not sent to the new one,
 * so it must be set again (`daftar profile set-key`).
 */
set_key_again: boolean, 
/**
 * The pause the base-URL change lifted, if the profile was paused.
 */
pause_lifted: string | null, name: string, base_url: string, currency: string, created_at: string, };

export type PaymentView = { session_id: string, order_no: string | null, profile: string, currency: string, amount: string, state: PaymentState, hidden: boolean, source: PaymentSource, created_at: string, 
/**
 * The customer's email as Ottu gave it; `null` when it gave none.
 */
customer_email: string | null, 
/**
 * The customer's phone as Ottu gave it; `null` when it gave none.
 */
customer_phone: string | null, 
/**
 * What can still be refunded, after what is refunded and what queued operations hold
 * (the payment's `balances.refundable`).
 */
refundable: string, 
/**
 * What can still be captured of an authorization (`balances.capturable`).
 */
capturable: string, };

/**
 * `payment show`: the payment, its balances and its whole timeline.
 */
export type PaymentDetail = { session_id: string, order_no: string | null, profile: string, currency: string, amount: string, state: PaymentState, hidden: boolean, source: PaymentSource, created_at: string, customer_email: string | null, customer_phone: string | null, balances: BalancesView, operations: Array<OperationView>, children: Array<ChildView>, events: Array<EventView>, };

/**
 * The balances as decimal strings with the currency's decimals, for JSON.
 */
export type BalancesView = { captured: string, refunded: string, voided: string, pending: string, refundable: string, capturable: string, };

export type OperationView = { id: number, kind: OperationKind, 
/**
 * What the operation moves: the requested amount, or what remained when it was
 * queued; `null` for cancel, expire and delete.
 */
amount: string | null, 
/**
 * What is sent to Ottu as `amount`; `null` = the full or remaining amount.
 */
requested_amount: string | null, status: OperationStatus, tracking_key: string, created_at: string, updated_at: string, attempts: number, 
/**
 * Whether the request may have reached Ottu (then it can no longer be dropped).
 */
sent: boolean, reason: string | null, requested_by: string, last_error: string | null, 
/**
 * `last_error`'s code and the values it is made from (see docs/errors.md), for a UI's
 * own words; absent for an error stored before codes were.
 */
last_error_code?: string, last_error_params?: { [key in string]: JsonValue }, session_id: string, order_no: string | null, profile: string, currency: string, 
/**
 * When the sync worker will try it next (RFC 3339), after a retryable failure or a
 * busy answer; `null` when it goes at its turn, or when it is not `queued`.
 */
next_attempt_at: string | null, 
/**
 * How long it has waited since it was queued, in milliseconds by the ledger's clock
 * when the view was made, while unfinished (`queued`, `in_flight`, `blocked`,
 * `needs_attention`); `null` once finished.
 */
age_ms: number | null, 
/**
 * What the merchant may do with it now, by the queue's own checks.
 */
actions: OperationActions, };

/**
 * What `queue retry`, `queue resend` and `queue drop` would do with an operation, decided
 * by the same checks they make, so a UI offers exactly the calls that succeed.
 */
export type OperationActions = { 
/**
 * `retry_operation` succeeds (with a confirmation and a reason when
 * `retry_needs_confirmation`): failed, unresolved or blocked, not retried yet, and
 * the rules allow the replacement against the payment's balances now.
 */
retry: boolean, 
/**
 * The retry must say `confirm_not_applied` and give a reason: the operation may
 * have reached Ottu. `false` when `retry` is.
 */
retry_needs_confirmation: boolean, 
/**
 * `resend_operation` succeeds: the outcome is unknown (`needs_attention`).
 */
resend: boolean, 
/**
 * `drop_operation` succeeds: queued or blocked, and never sent.
 */
drop: boolean, };

export type ChildView = { session_id: string, kind: OperationKind, amount: string, state: ChildState, operation_id: number | null, created_at: string, };

export type EventView = { id: number, at: string, actor: string, 
/**
 * What happened, e.g. `operation.queued`. A string, not an enum: the audit trail is
 * append-only, so a ledger keeps the actions older versions wrote, and new versions
 * add their own; a closed set would make an old or newer ledger unreadable.
 */
action: string, 
/**
 * `payment`, `operation`, `child` or `profile` (the kind of row `entity_id` names).
 */
entity: string, entity_id: number, before: JsonValue | null, after: JsonValue | null, };

/**
 * `queue ...`: the operation just queued and the payment's balances after it.
 */
export type QueuedView = { balances: BalancesView, id: number, kind: OperationKind, 
/**
 * What the operation moves: the requested amount, or what remained when it was
 * queued; `null` for cancel, expire and delete.
 */
amount: string | null, 
/**
 * What is sent to Ottu as `amount`; `null` = the full or remaining amount.
 */
requested_amount: string | null, status: OperationStatus, tracking_key: string, created_at: string, updated_at: string, attempts: number, 
/**
 * Whether the request may have reached Ottu (then it can no longer be dropped).
 */
sent: boolean, reason: string | null, requested_by: string, last_error: string | null, 
/**
 * `last_error`'s code and the values it is made from (see docs/errors.md), for a UI's
 * own words; absent for an error stored before codes were.
 */
last_error_code?: string, last_error_params?: { [key in string]: JsonValue }, session_id: string, order_no: string | null, profile: string, currency: string, 
/**
 * When the sync worker will try it next (RFC 3339), after a retryable failure or a
 * busy answer; `null` when it goes at its turn, or when it is not `queued`.
 */
next_attempt_at: string | null, 
/**
 * How long it has waited since it was queued, in milliseconds by the ledger's clock
 * when the view was made, while unfinished (`queued`, `in_flight`, `blocked`,
 * `needs_attention`); `null` once finished.
 */
age_ms: number | null, 
/**
 * What the merchant may do with it now, by the queue's own checks.
 */
actions: OperationActions, };

/**
 * `payment list`: one page in list order (newest first). `next_cursor` is passed back as
 * [`PaymentQuery::after`](super::PaymentQuery::after) for the next page; `None` on the
 * last. `total` counts every payment the filters match, on all pages: exactly, unless
 * `total_capped`, when a search matched more than [`crate::limits::SEARCH_COUNT_CAP`]
 * payments and `total` is that cap, a lower bound (counting a broad search's every match
 * would hold the ledger too long).
 */
export type PaymentPage = { payments: Array<PaymentView>, next_cursor: string | null, total: number, total_capped: boolean, };

/**
 * `queue list`: one page in queue order (oldest first), as [`PaymentPage`].
 */
export type OperationPage = { operations: Array<OperationView>, next_cursor: string | null, total: number, };

/**
 * `status`: operation counts per status, in total and per profile, and every paused
 * profile with the work it holds.
 */
export type StatusReport = { profiles: { [key in string]: ProfileStatus }, 
/**
 * Every paused profile (Ottu refused its credential), by name.
 */
paused: Array<PausedProfileView>, 
/**
 * How long the oldest operation still queued or in flight has waited since it was
 * queued (any profile); `null` when none waits.
 */
oldest_queued_age_ms: number | null, queued: number, in_flight: number, succeeded: number, failed: number, needs_attention: number, dropped: number, blocked: number, };

/**
 * One profile's counts, and its pause if it has one.
 */
export type ProfileStatus = { paused: PauseView | null, 
/**
 * When the profile's oldest operation still queued or in flight was queued (RFC
 * 3339), and how long ago; `null` when none waits.
 */
oldest_queued_at: string | null, oldest_queued_age_ms: number | null, queued: number, in_flight: number, succeeded: number, failed: number, needs_attention: number, dropped: number, blocked: number, };

export type PauseView = { reason: string, since: string | null, };

/**
 * A profile whose queue waits, as `sync` and `status` show it.
 */
export type PausedProfileView = { profile: string, reason: string, 
/**
 * When the pause was stored (RFC 3339); `null` for a hold of this run only.
 */
since: string | null, 
/**
 * Operations of the profile still queued or in flight.
 */
queued: number, 
/**
 * True when nothing was stored: a condition met in this run (no credential in this
 * machine's keyring, an answer that was not Ottu's); the next run tries again. False:
 * Ottu refused the credential, and `daftar profile set-key` resumes it.
 */
this_run_only: boolean, };

/**
 * One operation kind on one payment: whether `queue` would take it now with no amount.
 */
export type ActionView = { kind: OperationKind, allowed: boolean, 
/**
 * What queueing it would reserve, for refund, capture and void: the refundable,
 * capturable or voidable amount. `null` for cancel, expire and delete, and when
 * refused.
 */
max_amount: string | null, 
/**
 * The error `queue` would return for this request (as `--json` and the app receive
 * it); `null` when allowed.
 */
refusal: ErrorView | null, };

/**
 * What a connection check found. `error` is why it failed (`ottu.auth`: the credential
 * was refused; `ottu.offline`: nothing answered; `ottu.not_ottu`: whatever answered is
 * not Ottu's API; `ottu.unavailable`, `ottu.throttled`, `ottu.refused`, `ottu.base_url`),
 * `null` when `ok`.
 */
export type ConnectionCheck = { ok: boolean, error: ErrorView | null, 
/**
 * When the answer came (RFC 3339, the ledger's clock).
 */
checked_at: string, };

// --- requests (what the UI sends; the core checks every field) ---

/**
 * How a command names one payment: by session id or order number, optionally within a
 * profile. The user's text as given: the facade checks it.
 */
export type PaymentLookup = { profile?: string | null, session_id?: string | null, order_no?: string | null, };

/**
 * `payment add`: a payment entered by hand, as the user's text (the facade checks it).
 */
export type PaymentInput = { profile: string, session_id: string, order_no?: string | null, 
/**
 * A decimal in the currency's decimals, e.g. `12.500` for KWD.
 */
amount: string, currency: string, 
/**
 * A payment state word, e.g. `paid`.
 */
state: string, };

/**
 * `payment list` filters and page, as the user's text (the facade checks it).
 */
export type PaymentQuery = { profile?: string | null, 
/**
 * A payment state word, e.g. `paid`.
 */
state?: string | null, 
/**
 * The start of an order number or customer email (any case), phone (with or without
 * its `+`), session id, or Ottu reference number of one of the payment's operations;
 * through indexes. One or two characters match anywhere in these, reading the whole
 * table ([`SEARCH_MIN_PREFIX_CHARS`](crate::limits::SEARCH_MIN_PREFIX_CHARS)).
 */
search?: string | null, 
/**
 * Created at or after: RFC 3339 (`2026-01-31T22:00:00Z`) or a UTC date
 * (`2026-02-01`, from its first instant).
 */
from?: string | null, 
/**
 * Created before: RFC 3339, or a UTC date, which includes that whole day.
 */
to?: string | null, 
/**
 * The previous page's `next_cursor`: this page starts after it.
 */
after?: string | null, 
/**
 * Rows in the page: 1 to [`MAX_PAGE_ROWS`], default [`DEFAULT_PAGE_ROWS`]; wide, so
 * any number given is checked (and worded) here, never cut down on the way in.
 */
limit?: number | null, };

/**
 * `queue KIND ...`, as the user's text (the facade checks it).
 */
export type QueueRequest = { 
/**
 * An operation word: `refund`, `capture`, `void`, `cancel`, `expire` or `delete`.
 */
kind: string, payment: PaymentLookup, 
/**
 * A decimal in the payment's currency; `None` = the full or remaining amount.
 */
amount?: string | null, reason?: string | null, };

/**
 * `queue list` filters and page, as the user's text (the facade checks it).
 */
export type QueueQuery = { 
/**
 * An operation status word, e.g. `queued`.
 */
status?: string | null, 
/**
 * The previous page's `next_cursor`: this page starts after it.
 */
after?: string | null, 
/**
 * Rows in the page: 1 to [`MAX_PAGE_ROWS`](crate::limits::MAX_PAGE_ROWS), default
 * [`DEFAULT_PAGE_ROWS`]; checked by the same rule as `payment list`.
 */
limit?: number | null, };

/**
 * `queue retry ID`, as given.
 */
export type RetryRequest = { id: number, 
/**
 * The merchant checked at Ottu that the original did not take effect.
 */
confirm_not_applied: boolean, reason?: string | null, };

/**
 * What `profile set` asks to change; `None` keeps the current value.
 */
export type ProfileChange = { name: string, base_url?: string | null, currency?: string | null, };

// --- import and refresh (jobs: request, progress, summary) ---

/**
 * What to import: the user's text as given (the job checks it). Owned and deserializable,
 * so the desktop app can send it as it is.
 */
export type ImportRequest = { profile: string, 
/**
 * Ids given in the request (the command line, a form): checked before anything is sent;
 * a bad one refuses the whole request (it is a typo to fix, not a line in a long file).
 * At most [`IMPORT_MAX_IDS`]; more go in a file.
 */
session_ids: Array<string>, 
/**
 * A file of ids, one per line (blank lines and `#` comments skipped), read as a stream
 * after `session_ids`: memory does not grow with it, so it has no cap.
 */
from_file?: string | null, };

/**
 * How far an import is, for a progress bar: the total is unknown until the file ends, but
 * its size in bytes is known.
 */
export type ImportProgress = { 
/**
 * Whether ids are read from a file (after the ids given in the request).
 */
from_file: boolean, 
/**
 * The file's size in bytes; `None` without a file, or for one without a size (a pipe).
 */
bytes_total: number | null, 
/**
 * Ids given in the request itself (not the file's).
 */
ids_given: number, 
/**
 * Bytes of the file read so far.
 */
bytes_read: number, 
/**
 * Ids answered by Ottu (or failed) and lines rejected so far.
 */
handled: number, 
/**
 * Payments written to the ledger so far.
 */
imported: number, };

export type ImportSummary = { added: number, updated: number, unchanged: number, 
/**
 * The first [`IMPORT_MAX_LISTED`] failures; `failed_count` counts them all.
 */
failed: Array<ImportFailure>, failed_count: number, 
/**
 * Lines of the file that are not session ids: the first [`IMPORT_MAX_LISTED`];
 * `rejected_count` counts them all. The other lines are imported.
 */
rejected: Array<RejectedLine>, rejected_count: number, 
/**
 * `None` when the whole input was read.
 */
stopped: ImportStop | null, };

/**
 * A payment Ottu did not give us (unknown id, an answer that is not a payment...).
 */
export type ImportFailure = { session_id: string, 
/**
 * In English, for the CLI.
 */
error: string, 
/**
 * Its code (see docs/errors.md: `not_found` with `what: "payment"` for an id Ottu
 * does not know, `ottu.*` for Ottu's refusals and answers, `amount.*` / `input.*` /
 * `currency.unknown` for a payment the ledger cannot take) and the values it is made
 * from, for a UI's own words.
 */
code: string, params: { [key in string]: JsonValue }, 
/**
 * Its line in the `--from-file` file; absent for ids given on the command line.
 */
line?: number, };

/**
 * A line that is not a session id, as the merchant will look for it in the file.
 */
export type RejectedLine = { 
/**
 * 1-based, as editors count.
 */
line: number, 
/**
 * The line as read (trimmed), cut at [`IMPORT_MAX_REJECTED_TEXT_CHARS`].
 */
text: string, error: string, };

/**
 * Where and why an import stopped before the end of its input.
 */
export type ImportStop = { reason: StopReason, 
/**
 * The error code the run reports (`ottu.auth`, `ottu.offline`, `interrupted`...).
 */
code: string, message: string, 
/**
 * The file line the import stopped at: nothing from it on was imported.
 */
line: number | null, 
/**
 * The session id it stopped at, when it stopped at one.
 */
session_id: string | null, };

/**
 * Why a run stopped before the end of its input.
 */
export type StopReason = "auth" | "offline" | "not_ottu" | "unavailable" | "interrupted" | "unreadable" | "ledger";

/**
 * What to refresh: one profile, or every profile with a key stored.
 */
export type RefreshRequest = { profile?: string | null, };

/**
 * How far a refresh is: the profile being read, and its children asked about so far.
 */
export type RefreshProgress = { profile: string, done: number, total: number, };

export type RefreshSummary = { 
/**
 * Children Ottu had not settled (`refund_queued`) that were read again.
 */
checked: number, 
/**
 * Of those, how many have a new state now.
 */
settled: number, failed: Array<ImportFailure>, };

// --- sync (the worker's events and its run's summary) ---

/**
 * Progress, as the worker reports it (the CLI draws a bar, the desktop app shows events).
 */
export type SyncEvent = { "event": "outstanding", total: number, } | { "event": "recovered", count: number, } | { "event": "sent", id: number, attempt: number, } | { "event": "recorded" } & OperationOutcomeView | { "event": "offline", retry_in_ms: number, profile: string, } | { "event": "online", profile: string, } | { "event": "paused", profile: string, reason: string, 
/**
 * `reason`'s code and the values it is made from (docs/errors.md), for a UI's own
 * words; `null` where there is none.
 */
code: string | null, params: { [key in string]: JsonValue } | null, } | { "event": "resumed", profile: string, } | { "event": "idle", next_due_in_ms: number | null, } | { "event": "store_error", code: string, message: string, 
/**
 * The values `message` is made from.
 */
params: { [key in string]: JsonValue }, retry_in_ms: number, } | { "event": "finished" } & SyncSummary;

/**
 * What one attempt ended in.
 */
export type OperationOutcomeView = { id: number, kind: OperationKind, session_id: string, profile: string, attempt: number, 
/**
 * The operation's status after the attempt.
 */
status: OperationStatus, detail: string, 
/**
 * `detail`'s code and the values it is made from (docs/errors.md), for a UI's own
 * words; `null` for a success (its detail is Ottu's own text).
 */
code: string | null, params: { [key in string]: JsonValue } | null, 
/**
 * When it will be tried again, for one sent back to the queue.
 */
retry_in_ms: number | null, };

/**
 * What a run achieved.
 */
export type SyncSummary = { succeeded: number, failed: number, needs_attention: number, 
/**
 * Operations held behind a refusal or an unknown outcome during this run.
 */
blocked: number, 
/**
 * Attempts that will be retried (5xx, timeouts, throttling).
 */
retried: number, recovered: number, 
/**
 * Whether Ottu was unreachable when the run stopped.
 */
offline: boolean, 
/**
 * Every profile whose queue waits when the run stops, whether paused in this run or
 * before it: (profile, reason). The same profiles as `paused_profiles`.
 */
paused: Array<[string, string]>, 
/**
 * Every paused profile with its reason, since when, and the work it holds.
 */
paused_profiles: Array<PausedProfileView>, 
/**
 * Operations still queued or in flight when the run stopped, paused profiles' included.
 */
remaining: number, 
/**
 * Every attempt's outcome, up to `SYNC_MAX_REPORTED_OUTCOMES` (the events carry all).
 */
outcomes: Array<OperationOutcomeView>, outcomes_truncated: boolean, };

/**
 * The worker's state for a UI: running, each profile's connection and queue.
 */
export type SyncStatus = { running: boolean, 
/**
 * As the last `outstanding` event said.
 */
outstanding: number, 
/**
 * The last store call failed with this (it is being retried); `null` once one works.
 */
store_error: string | null, 
/**
 * `store_error`'s code (`store.busy`, …) and the values it is made from.
 */
store_error_code: string | null, store_error_params: { [key in string]: JsonValue } | null, 
/**
 * Every profile in the worker's scope, by name.
 */
profiles: Array<ProfileSyncStatus>, };

export type ProfileSyncStatus = { profile: string, connection: Connection, 
/**
 * Why the profile's queue waits, when paused (stored) or held (this run).
 */
paused_reason: string | null, 
/**
 * `paused_reason`'s code and the values it is made from, for a UI's own words;
 * `null` without one (a pause stored before codes were).
 */
paused_code: string | null, paused_params: { [key in string]: JsonValue } | null, 
/**
 * Operations queued or in flight.
 */
waiting: number, 
/**
 * How long the oldest of them has waited since it was queued.
 */
oldest_queued_age_ms: number | null, };

/**
 * A profile's state as the running worker sees it.
 */
export type Connection = "unknown" | "online" | "offline" | "paused" | "held";

// --- month end: shared (report rows, column mappings, totals) ---

/**
 * One field whose value differs between the ledger and the report (decimal strings for
 * amounts, words for states, RFC 3339 for times).
 */
export type FieldChange = { field: string, ledger: string | null, report: string | null, };

/**
 * A row that was not taken, and why. `code` is stable (`row.missing_id`,
 * `row.bad_amount`, `row.unknown_currency`, `row.bad_state`, `row.bad_date`,
 * `row.duplicate`, `row.bad_reference`, `row.unknown_parent`); `field` is the report
 * field at fault; `reason` is English.
 */
export type RowReject = { line: number, code: string, field: string | null, reason: string, };

/**
 * One column of the file and the field it holds (`None`: ignored).
 */
export type MappedColumn = { header: string, field: string | null, };

/**
 * Totals of one currency as decimal strings with the currency's decimals (`"12.500"`).
 */
export type CurrencyTotals = { currency: string, paid: string, captured: string, refunded: string, voided: string, pending: string, 
/**
 * Known only from a settlement file.
 */
fees: string | null, };

// --- month end: report import (a job: request, progress, summary) and Ottu's report list ---

/**
 * What to import: a file, or a report Ottu holds (`token`, downloaded first).
 */
export type ReportImportRequest = { profile: string, 
/**
 * The report file (CSV or XLSX); ignored when `token` is given.
 */
path: string, 
/**
 * A report's download token from the report list.
 */
token?: string, 
/**
 * `HEADER=field` overrides of the column mapping; saved for the profile on commit.
 */
map: Array<string>, 
/**
 * Apply the plan (one transaction); `false` = a dry run that writes nothing.
 */
commit: boolean, 
/**
 * Where rejected rows go (default `<file>.rejects.csv`); written on commit, or on a
 * dry run only when named.
 */
rejects_path?: string, 
/**
 * Apply rows that change a payment created inside a period the merchant locked (the
 * period is reopened, as any late change reopens it); without it they are conflicts
 * (`period_locked`).
 */
reopen?: boolean, };

export type ReportProgress = { rows: number, bytes: number, total_bytes: number, };

/**
 * A row that adds a payment (or a child, with `parent_session_id`).
 */
export type RowAdd = { line: number, session_id: string, parent_session_id?: string, order_no: string | null, amount: string, currency: string, state: string, };

/**
 * A row that changes a payment (or child) the ledger has.
 */
export type RowUpdate = { line: number, session_id: string, changes: Array<FieldChange>, };

/**
 * A row the import does not apply because the ledger's own history disagrees: the
 * reconcile screen is where the merchant decides. One per row (the first field found).
 */
export type RowConflict = { line: number, session_id: string, field: string, ledger: string | null, report: string | null, reason: string, };

/**
 * A period the merchant locked after reconciling it: `[from, to)`, RFC 3339.
 */
export type LockedPeriod = { id: number, from: string, to: string, };

/**
 * What an import found (a dry run) or did (`committed`). Lists hold the first
 * [`IMPORT_MAX_LISTED`] rows; counts are complete. `rows` = added + updated + unchanged
 * + conflicts + rejected.
 */
export type ReportImportSummary = { profile: string, file: string, 
/**
 * `csv` or `xlsx`.
 */
format: string, committed: boolean, columns: Array<MappedColumn>, rows: number, added: Array<RowAdd>, added_count: number, updated: Array<RowUpdate>, updated_count: number, unchanged_count: number, conflicts: Array<RowConflict>, conflict_count: number, rejected: Array<RowReject>, rejected_count: number, 
/**
 * Totals rows passed over (the `total` rows a Daftar export ends with); not in `rows`.
 */
skipped_totals?: number, 
/**
 * The rejects file written, if any.
 */
rejects_file: string | null, 
/**
 * Per currency, of the rows that are not rejected.
 */
totals: Array<CurrencyTotals>, 
/**
 * The locked periods this run reopened (only with `reopen`; on a dry run, the ones a
 * commit would reopen).
 * Left out when empty.
 */
reopened_periods?: Array<LockedPeriod>, };

/**
 * Which reports to list: a profile, optionally created within `[from, to]` (dates).
 */
export type ReportListRequest = { profile: string, from?: string, to?: string, };

/**
 * One report Ottu generated.
 */
export type ReportFile = { 
/**
 * What `import-report --token` takes; `None` when Ottu gave no download link.
 */
token: string | null, name: string | null, interval: string | null, 
/**
 * `csv`, `xlsx`, as Ottu says.
 */
format: string | null, rows: number | null, 
/**
 * `in_progress`, `finished`, `expired`.
 */
status: string | null, created_at: string | null, };

export type ReportList = { profile: string, 
/**
 * Newest first, as Ottu lists them.
 */
reports: Array<ReportFile>, 
/**
 * How many Ottu says it has (more than listed when past the page limit).
 */
count: number, };

// --- month end: reconciliation (a job; its summary, items, decisions, periods) ---

/**
 * What a reconciliation found for one payment.
 */
export type MatchClass = "matched" | "amount_differs" | "state_differs" | "totals_differ" | "report_only" | "ledger_only" | "queued" | "changed_late";

/**
 * `daftar reconcile --profile P (--report FILE | --report-token T)`: the user's text as
 * given (the job checks it).
 */
export type ReconcileRequest = { profile: string, 
/**
 * A report file (CSV or XLSX); exactly one of this and `report_token`.
 */
report?: string | null, 
/**
 * The token of a report Ottu generated: downloaded, then read like a file.
 */
report_token?: string | null, 
/**
 * Payments created at or after: RFC 3339 or a UTC date (its first instant).
 */
from?: string | null, 
/**
 * Created before: RFC 3339, or a UTC date, which includes that whole day.
 */
to?: string | null, 
/**
 * Column overrides, `HEADER=field`, on top of the profile's saved mapping.
 */
map: Array<string>, };

/**
 * Where a run is: reading the report into the ledger's scratch space, matching, saving.
 */
export type ReconcilePhase = "reading" | "matching" | "saving";

export type ReconcileProgress = { phase: ReconcilePhase, 
/**
 * Rows handled in this phase so far.
 */
rows: number, 
/**
 * Rows this phase will handle, when known (not while reading: the file's size is).
 */
total: number | null, 
/**
 * Bytes of the report read so far, and its size (for a bar while reading).
 */
bytes: number, total_bytes: number, };

/**
 * One class in one currency: how many payments, and the sum of their amounts as each
 * side holds them (a side's amounts in another currency are left out of this line).
 */
export type ClassTotal = { class: MatchClass, currency: string, count: number, ledger_amount: string, report_amount: string, };

/**
 * A reconciliation run: what it compared and what it found.
 */
export type ReconcileSummary = { 
/**
 * The reconciliation's id (`reconcile show ID`).
 */
id: number, profile: string, 
/**
 * The period: payments created in `[from, to)`; `None` = unbounded.
 */
from: string | null, to: string | null, 
/**
 * The report file's name, or `token:<token>`.
 */
source: string, created_at: string, actor: string, 
/**
 * Per class and currency, classes in [`MatchClass::ALL`] order.
 */
classes: Array<ClassTotal>, 
/**
 * The ledger's totals over the period (as exports end with).
 */
totals: Array<CurrencyTotals>, 
/**
 * The same totals from the report's rows in the period.
 */
report_totals: Array<CurrencyTotals>, 
/**
 * Nothing but `matched` and `queued`.
 */
clean: boolean, 
/**
 * Mismatches nobody has accepted or kept yet (now, not when the run ended).
 */
undecided: number, 
/**
 * Valid payment (parent) rows of the report, and child rows (refunds, captures, voids).
 */
report_rows: number, child_rows: number, 
/**
 * Report rows of payments created outside the period: not classified.
 */
outside_period: number, 
/**
 * Report rows of payments deleted in the ledger (hidden): left out, as Ottu's reports
 * leave deleted payments out.
 */
hidden_rows: number, 
/**
 * Rows the report reader refused (capped list; the count is complete).
 */
rejected: Array<RowReject>, rejected_count: number, };

/**
 * One classified payment with both sides as the run saw them.
 */
export type ReconcileItemView = { id: number, reconciliation: number, class: MatchClass, session_id: string | null, order_no: string | null, currency: string, 
/**
 * The ledger's values: amount, currency, state, created_at, reference_number,
 * refunded/captured/voided, unfinished (an operation not final yet). A `matched`
 * item found by session id keeps only what both sides agreed on: amount, currency,
 * state, created_at, refunded/captured/voided.
 */
ledger: Record<string, unknown> | null, 
/**
 * The report's values: the same, plus its line, how it was matched (`matched_by`),
 * gateway code, customer email and child rows; for a `matched` item found by session
 * id: line, matched_by, session_id, amount, currency and state.
 */
report: Record<string, unknown> | null, 
/**
 * `accepted` or `kept`; `None` while undecided.
 */
decision: string | null, decided_at: string | null, decided_by: string | null, 
/**
 * The fields the sides disagree on, in both sides' words.
 */
differences: Array<FieldChange>, };

/**
 * `reconcile show ID [--class C] [--after CURSOR] [--limit N]`.
 */
export type ReconcileItemQuery = { 
/**
 * The reconciliation.
 */
id: number, 
/**
 * One class word, e.g. `amount_differs`.
 */
class?: string | null, after?: string | null, limit?: number | null, };

export type ReconcileItemPage = { items: Array<ReconcileItemView>, next_cursor: string | null, 
/**
 * Items of the reconciliation (of the class, if one was given).
 */
total: number, };

/**
 * `reconcile accept|keep ITEM [--reason TEXT]`.
 */
export type ReconcileDecision = { item: number, 
/**
 * `accept` (the ledger takes the report's values) or `keep` (the ledger's stay).
 */
decision: string, reason?: string | null, };

/**
 * `reconcile lock --profile P --from D --to D [--reconciliation ID]`.
 */
export type LockPeriodRequest = { profile: string, from: string, to: string, 
/**
 * The reconciliation that covers the period; default: the newest that does.
 */
reconciliation?: number | null, };

/**
 * Why and when a locked period was reopened: the first later change to one of its
 * payments (the ledger's triggers record it, whatever wrote the change).
 */
export type ReopenView = { at: string, 
/**
 * `payment_changed` (amount, currency, state, deletion), `payment_added`,
 * `child_added` or `child_changed`.
 */
reason: string, session_id: string | null, order_no: string | null, };

/**
 * A period the merchant marked reconciled.
 */
export type PeriodView = { id: number, profile: string, from: string, 
/**
 * Exclusive: the first instant after the period.
 */
to: string, reconciliation: number | null, 
/**
 * `locked`, or `reopened` once a payment in it changed.
 */
status: string, locked_at: string, locked_by: string, 
/**
 * Set when `status` is `reopened`.
 */
reopened: ReopenView | null, };

// --- month end: settlement files and matching ---

/**
 * `settlement import`: a file for a profile, dry run unless `commit`.
 */
export type SettlementImportRequest = { profile: string, path: string, 
/**
 * `HEADER=field` overrides (saved for the profile when the import commits).
 */
map: Array<string>, commit: boolean, 
/**
 * Where rejected lines go; default `<file>.rejects.csv` (written only when there are).
 */
rejects_path?: string | null, };

/**
 * Progress of an import: records read, bytes of the file read so far, of how many.
 */
export type SettlementProgress = { rows: number, bytes: number, total_bytes: number, };

/**
 * A line that was not taken, and why: `code` is stable (`row.bad_amount`,
 * `row.unknown_currency`, `row.bad_date`, `row.bad_reference`, `row.missing_reference`,
 * `row.duplicate`); `field` the settlement field at fault; `reason` is English.
 */
export type SettlementReject = { line: number, code: string, field?: string | null, reason: string, };

/**
 * A settlement file's own totals in one currency: what the lines say, before any
 * matching (decimal strings with the currency's decimals).
 */
export type SettlementFileTotals = { currency: string, 
/**
 * The positive lines: money paid out to the merchant.
 */
settled: string, 
/**
 * The refund (negative) lines, as a positive sum.
 */
refunds: string, 
/**
 * The lines' fees; `None` when no line of the currency gives one (unknown, not zero).
 */
fees?: string | null, 
/**
 * What reached the account: each line's net, else its amount − fee, else its amount;
 * refund lines count negative.
 */
net: string, };

/**
 * What an import found (dry run) or did (`committed`).
 */
export type SettlementImportSummary = { profile: string, file: string, 
/**
 * `csv` or `xlsx`.
 */
format: string, committed: boolean, columns: Array<MappedColumn>, 
/**
 * Data records read (rejected ones included).
 */
rows: number, 
/**
 * Valid lines new to the ledger (added on commit; would be added on a dry run).
 */
added_count: number, 
/**
 * Valid lines the ledger holds already (an earlier import of the same file).
 */
duplicate_count: number, 
/**
 * The first [`IMPORT_MAX_LISTED`](crate::limits::IMPORT_MAX_LISTED); the count is complete.
 */
rejected: Array<SettlementReject>, rejected_count: number, rejects_file?: string | null, 
/**
 * Per currency, of the valid lines (duplicates included: what the file says).
 */
totals: Array<SettlementFileTotals>, };

/**
 * `settlement match`: payments (and refunds) created in `[from, to)` of a profile.
 */
export type SettlementMatchRequest = { profile: string, 
/**
 * Created at or after: a UTC date (`2025-12-01`) or an RFC 3339 instant.
 */
from?: string | null, 
/**
 * Created before: an RFC 3339 instant, or a UTC date, which includes that whole day.
 */
to?: string | null, 
/**
 * Business days a line may come after the transaction's day; default
 * [`SETTLEMENT_WINDOW_BUSINESS_DAYS`](crate::limits::SETTLEMENT_WINDOW_BUSINESS_DAYS).
 */
window_days?: number | null, };

/**
 * A transaction with the settlement line that paid it out (or took a refund back).
 */
export type SettledItem = { 
/**
 * `payment` or `refund`.
 */
kind: string, 
/**
 * The payment's session id (a refund: its own child session id).
 */
session_id: string, 
/**
 * For a refund, the payment's session id.
 */
parent_session_id?: string | null, order_no?: string | null, reference?: string | null, currency: string, 
/**
 * What the ledger says should settle (negative for a refund).
 */
expected: string, 
/**
 * What the line says settled (negative for a refund).
 */
settled: string, 
/**
 * `settled - expected`: zero when matched.
 */
difference: string, fee?: string | null, net?: string | null, 
/**
 * The transaction's creation (RFC 3339, UTC).
 */
created_at: string, 
/**
 * `YYYY-MM-DD`.
 */
settled_on: string, 
/**
 * Business days from the transaction's day to the settlement day.
 */
lag_days: number, 
/**
 * `reference` or `order_no`: how the line was found.
 */
matched_by: string, line_id: number, line: number, source: string, };

/**
 * A paid payment or succeeded refund with no settlement line.
 */
export type UnsettledItem = { kind: string, session_id: string, parent_session_id?: string | null, order_no?: string | null, reference?: string | null, currency: string, 
/**
 * Negative for a refund.
 */
amount: string, created_at: string, 
/**
 * The last day of its window (`YYYY-MM-DD`).
 */
due_by: string, };

/**
 * A stored settlement line (one that matched nothing, in the report).
 */
export type SettlementLineView = { id: number, source: string, line: number, order_no?: string | null, reference?: string | null, currency: string, amount: string, fee?: string | null, net?: string | null, settled_on: string, 
/**
 * Why it matched nothing: `no_payment` (no payment or refund has its reference or
 * order number), `not_paid` (the payment it names is not paid), `outside_window`
 * (the transaction it names is outside the window), `currency_differs` (it names
 * transactions in another currency), `already_settled` (an earlier
 * line settled that transaction), `no_refund` (a negative line for a payment with no
 * succeeded refund to take it).
 */
reason: string, 
/**
 * The payment the line names, when it names one.
 */
session_id?: string | null, };

/**
 * Per currency: what the ledger expected to settle, what did, the fees, what did not.
 */
export type SettlementTotals = { currency: string, 
/**
 * Paid payments minus succeeded refunds of the period.
 */
expected: string, 
/**
 * The lines matched to them (matched and amount_differs), refunds negative.
 */
settled: string, 
/**
 * The fees of those lines.
 */
fees: string, 
/**
 * What reached the account for them (each line's net, else amount − fee).
 */
net: string, 
/**
 * Expected but not settled once the window passed (refunds negative).
 */
not_settled: string, 
/**
 * Expected, window not passed yet.
 */
awaiting: string, 
/**
 * Lines that match nothing.
 */
unknown: string, };

/**
 * The result of `settlement match`. Lists hold the first
 * [`IMPORT_MAX_LISTED`](crate::limits::IMPORT_MAX_LISTED) items; counts are complete.
 */
export type SettlementReport = { profile: string, from?: string | null, to?: string | null, window_days: number, 
/**
 * The day the report was made (`YYYY-MM-DD`, UTC): windows that end before it passed.
 */
as_of: string, matched: Array<SettledItem>, matched_count: number, amount_differs: Array<SettledItem>, amount_differs_count: number, not_settled: Array<UnsettledItem>, not_settled_count: number, 
/**
 * Expected, but their window has not passed yet.
 */
awaiting: Array<UnsettledItem>, awaiting_count: number, unknown: Array<SettlementLineView>, unknown_count: number, totals: Array<SettlementTotals>, };

// --- month end: exports (a job) ---

/**
 * What to export: the user's text as given (the job checks it).
 */
export type ExportRequest = { 
/**
 * `ledger`, `operations` or `reconciliation`.
 */
what: string, 
/**
 * `csv` or `xlsx`.
 */
format: string, path: string, profile?: string | null, 
/**
 * Payments created from this day or instant (inclusive)...
 */
from?: string | null, 
/**
 * ...to this day (inclusive: the whole day) or instant (exclusive).
 */
to?: string | null, 
/**
 * The reconciliation to export; `None`: the newest (of `profile`, if given).
 */
reconciliation?: number | null, 
/**
 * `en` (default) or `ar`: the headers' language.
 */
lang?: string | null, 
/**
 * A UTF-8 byte order mark at the start of a CSV, so Excel reads Arabic right.
 */
bom: boolean, };

/**
 * How far an export is: rows written of the rows it will write.
 */
export type ExportProgress = { rows: number, total: number, };

/**
 * What an export wrote.
 */
export type ExportSummary = { file: string, what: string, format: string, 
/**
 * Data rows (without the header and the totals rows).
 */
rows: number, totals: Array<CurrencyTotals>, };

// --- errors (every failure, as the UI and `--json` receive it) ---

/**
 * The error as the UI and `--json` receive it.
 */
export type ErrorView = { code: string, kind: ErrorKind, message: string, field: string | null, 
/**
 * The values the message is made from; `{}` when it has none.
 */
params: { [key in string]: JsonValue }, };

/**
 * What kind of failure it is: what a UI shows (fix the field, refused now, try later,
 * report a bug) and what the CLI maps to an exit code. Each code has one kind, in
 * [`codes::CODES`].
 */
export type ErrorKind = "invalid_input" | "refused" | "not_found" | "unavailable" | "conflict" | "internal";

/**
 * Every code in the core's registry (src/error/codes.rs, docs/errors.md): what `ErrorView.code`
 * holds for the core's errors.
 */
export type ErrorCode = "amount.not_decimal" | "amount.too_precise" | "amount.too_many_digits" | "amount.not_positive" | "amount.currency" | "amount.overflow" | "amount.not_accepted" | "currency.unknown" | "input.empty" | "input.too_long" | "input.bad_character" | "input.unknown_word" | "input.payment_reference" | "input.ambiguous_payment" | "input.unreadable" | "limit.out_of_range" | "cursor.invalid" | "date.invalid" | "reason.too_long" | "reason.bad_character" | "db.not_a_file" | "db.empty" | "db.no_home" | "db.unwritable" | "base_url.invalid" | "base_url.insecure" | "base_url.too_long" | "basic_user.empty" | "basic_user.too_long" | "basic_user.bad_character" | "key.empty" | "key.too_short" | "key.too_long" | "key.bad_character" | "key.no_terminal" | "key.unreadable" | "profile.exists" | "profile.nothing_to_change" | "profile.changed" | "profile.in_use" | "profile.unresolved_sends" | "payment.exists" | "rules.payment_deleted" | "rules.operation_pending" | "rules.state" | "rules.void_after_capture" | "rules.voided" | "rules.refund_exceeds" | "rules.capture_exceeds" | "rules.nothing_left" | "rules.balance_overflow" | "not_found" | "queue.not_droppable" | "queue.not_retryable" | "queue.not_resendable" | "queue.already_retried" | "retry.unconfirmed" | "retry.reason_missing" | "sync.concurrency" | "sync.lock" | "sync.running" | "sync.thread" | "sync.stale_answer" | "import.nothing" | "import.no_session_id" | "import.too_many_ids" | "refresh.failed" | "interrupted" | "runtime" | "ottu.credential" | "ottu.base_url" | "ottu.auth" | "ottu.offline" | "ottu.unavailable" | "ottu.not_ottu" | "ottu.refused" | "ottu.throttled" | "ottu.unknown_outcome" | "sync.cannot_send" | "sync.credential_changed" | "operation.mismatch" | "operation.unresolved" | "sync.interrupted" | "operation.resent" | "operation.held" | "ledger.corrupt" | "ledger.invariant" | "secrets.unavailable" | "secrets.failed" | "store.busy" | "store.corrupt" | "store.newer_version" | "store.cannot_open" | "store.not_a_ledger" | "store.hard_linked" | "store.read_only" | "store.disk_full" | "store.error" | "table.unreadable" | "table.no_header" | "table.too_wide" | "table.encoding" | "table.bad_row" | "table.bad_xlsx" | "value.not_amount" | "value.too_precise" | "value.negative" | "value.not_time" | "value.not_date" | "mapping.missing_field" | "mapping.missing_reference" | "mapping.unknown_field" | "mapping.no_such_header" | "mapping.bad_override" | "mapping.duplicate_field" | "row.missing_id" | "row.bad_amount" | "row.unknown_currency" | "row.bad_state" | "row.bad_date" | "row.duplicate" | "row.bad_reference" | "row.unknown_parent" | "report.download_limit" | "report.token_expired" | "reconcile.no_report" | "reconcile.nothing_to_accept" | "reconcile.nothing_to_decide" | "reconcile.already_decided" | "reconcile.currency_differs" | "reconcile.amount_below_spent" | "reconcile.period_changed" | "reconcile.stale" | "reconcile.undecided" | "reconcile.period_locked" | "reconcile.not_covered" | "export.bad_path" | "export.write_failed" | "row.missing_reference" | "settlement.bad_window" | "settlement.rejects_unwritable" | "settlement.cancelled" | "usage.invalid_value" | "usage.unknown_argument" | "usage.unknown_command" | "usage.missing_argument" | "usage.missing_command" | "usage.conflict" | "usage.wrong_number_of_values" | "usage.invalid" | "app.task_failed" | "app.bad_request" | "demo.start_failed" | "demo.not_started" | "demo.profile_taken" | "app.upload_empty" | "app.upload_too_large" | "app.upload_unknown" | "app.upload_failed" | "app.no_folder" | "app.export_folder";

// --- JSON values (audit event before/after, error params) ---

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;
