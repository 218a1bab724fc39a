//! The TypeScript contract of the desktop UI, `ui/src/lib/bindings.ts`, is generated from
//! the Rust types (ts-rs) and checked in. This test builds the whole file from each type's
//! declaration, in a fixed order, and compares it with the checked-in copy: a view, request,
//! event or error changed without regenerating the file fails here.
//!
//! Regenerate with `DAFTAR_UPDATE_BINDINGS=1 cargo test --locked --test bindings`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ts_rs::{Config, TS};

/// Where the desktop UI (ui/) reads its types from.
const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

const HEADER: &str = "\
// Generated from the Rust types by tests/bindings.rs (ts-rs). Do not edit by hand:
// change the Rust type, then run
//   DAFTAR_UPDATE_BINDINGS=1 cargo test --locked --test bindings
// Amounts are decimal strings in the currency's decimals (never numbers); times are
// RFC 3339 strings; ids are whole numbers well inside a JavaScript number's exact range.
";

/// The file's declarations, one per type, and the names they declare.
struct Bindings {
    cfg: Config,
    text: String,
    declared: BTreeSet<String>,
    referenced: Vec<(String, String)>,
}

impl Bindings {
    fn new() -> Bindings {
        Bindings {
            // i64/u64 are ids and counts far below 2^53, and serde_json writes them as
            // JSON numbers: `number`, not ts-rs's default `bigint` (JSON.parse never makes one).
            cfg: Config::new().with_large_int("number"),
            text: HEADER.to_string(),
            declared: BTreeSet::new(),
            referenced: Vec::new(),
        }
    }

    fn section(&mut self, title: &str) -> &mut Self {
        self.text.push_str(&format!("\n// --- {title} ---\n"));
        self
    }

    /// Appends `T`'s declaration (with its doc comment) and notes what it refers to.
    fn add<T: TS + 'static>(&mut self) -> &mut Self {
        let name = T::ident(&self.cfg);
        assert!(self.declared.insert(name.clone()), "{name} is listed twice");
        self.text.push('\n');
        if let Some(docs) = T::docs() {
            self.text.push_str(&docs);
        }
        self.text.push_str("export ");
        self.text.push_str(&T::decl(&self.cfg));
        self.text.push('\n');
        for dependency in T::dependencies(&self.cfg) {
            self.referenced.push((name.clone(), dependency.ts_name));
        }
        self
    }
}

impl Bindings {
    /// `ErrorCode`: every code in the core's registry, so the UI can switch on
    /// `ErrorView.code` exhaustively (and a new code shows up here as a change).
    fn error_codes(&mut self) -> &mut Self {
        let codes: Vec<String> = daftar::error::codes::CODES
            .iter()
            .map(|c| format!("\"{}\"", c.code))
            .collect();
        assert!(self.declared.insert("ErrorCode".to_string()));
        self.text.push_str(&format!(
            "\n/**\n * Every code in the core's registry (src/error/codes.rs, docs/errors.md): what \
             `ErrorView.code`\n * holds for the core's errors.\n */\nexport type ErrorCode = {};\n",
            codes.join(" | ")
        ));
        self
    }
}

fn bindings() -> Bindings {
    use daftar::import::{
        ImportFailure, ImportProgress, ImportRequest, ImportStop, ImportSummary, RefreshProgress,
        RefreshRequest, RefreshSummary, RejectedLine, StopReason,
    };
    use daftar::ledger::*;
    use daftar::model::*;
    use daftar::sync::{
        Connection, OperationOutcomeView, PausedProfileView, ProfileSyncStatus, SyncEvent,
        SyncStatus, SyncSummary,
    };
    let mut b = Bindings::new();
    b.section("words (enums, serialized as these strings)")
        .add::<PaymentState>()
        .add::<PaymentSource>()
        .add::<OperationKind>()
        .add::<OperationStatus>()
        .add::<ChildState>()
        .add::<AuthKind>();
    b.section("views (what the facade returns)")
        .add::<ProfileView>()
        .add::<ProfileDetail>()
        .add::<ProfileChanged>()
        .add::<PaymentView>()
        .add::<PaymentDetail>()
        .add::<BalancesView>()
        .add::<OperationView>()
        .add::<OperationActions>()
        .add::<ChildView>()
        .add::<EventView>()
        .add::<QueuedView>()
        .add::<PaymentPage>()
        .add::<OperationPage>()
        .add::<StatusReport>()
        .add::<ProfileStatus>()
        .add::<PauseView>()
        .add::<PausedProfileView>()
        .add::<ActionView>()
        .add::<ConnectionCheck>();
    b.section("requests (what the UI sends; the core checks every field)")
        .add::<PaymentLookup>()
        .add::<PaymentInput>()
        .add::<PaymentQuery>()
        .add::<QueueRequest>()
        .add::<QueueQuery>()
        .add::<RetryRequest>()
        .add::<ProfileChange>();
    b.section("import and refresh (jobs: request, progress, summary)")
        .add::<ImportRequest>()
        .add::<ImportProgress>()
        .add::<ImportSummary>()
        .add::<ImportFailure>()
        .add::<RejectedLine>()
        .add::<ImportStop>()
        .add::<StopReason>()
        .add::<RefreshRequest>()
        .add::<RefreshProgress>()
        .add::<RefreshSummary>();
    b.section("sync (the worker's events and its run's summary)")
        .add::<SyncEvent>()
        .add::<OperationOutcomeView>()
        .add::<SyncSummary>()
        .add::<SyncStatus>()
        .add::<ProfileSyncStatus>()
        .add::<Connection>();
    {
        use daftar::export::totals::CurrencyTotals;
        use daftar::export::{ExportProgress, ExportRequest, ExportSummary};
        use daftar::import::report::{
            LockedPeriod, ReportFile, ReportImportRequest, ReportImportSummary, ReportList,
            ReportListRequest, ReportProgress, RowAdd, RowConflict, RowUpdate,
        };
        use daftar::reconcile::*;
        b.section("month end: shared (report rows, column mappings, totals)")
            .add::<FieldChange>()
            .add::<RowReject>()
            .add::<daftar::tabular::MappedColumn>()
            .add::<CurrencyTotals>();
        b.section(
            "month end: report import (a job: request, progress, summary) and Ottu's report list",
        )
        .add::<ReportImportRequest>()
        .add::<ReportProgress>()
        .add::<RowAdd>()
        .add::<RowUpdate>()
        .add::<RowConflict>()
        .add::<LockedPeriod>()
        .add::<ReportImportSummary>()
        .add::<ReportListRequest>()
        .add::<ReportFile>()
        .add::<ReportList>();
        b.section("month end: reconciliation (a job; its summary, items, decisions, periods)")
            .add::<MatchClass>()
            .add::<ReconcileRequest>()
            .add::<ReconcilePhase>()
            .add::<ReconcileProgress>()
            .add::<ClassTotal>()
            .add::<ReconcileSummary>()
            .add::<ReconcileItemView>()
            .add::<ReconcileItemQuery>()
            .add::<ReconcileItemPage>()
            .add::<ReconcileDecision>()
            .add::<LockPeriodRequest>()
            .add::<ReopenView>()
            .add::<PeriodView>();
        {
            use daftar::settlement::*;
            b.section("month end: settlement files and matching")
                .add::<SettlementImportRequest>()
                .add::<SettlementProgress>()
                .add::<SettlementReject>()
                .add::<SettlementFileTotals>()
                .add::<SettlementImportSummary>()
                .add::<SettlementMatchRequest>()
                .add::<SettledItem>()
                .add::<UnsettledItem>()
                .add::<SettlementLineView>()
                .add::<SettlementTotals>()
                .add::<SettlementReport>();
        }
        b.section("month end: exports (a job)")
            .add::<ExportRequest>()
            .add::<ExportProgress>()
            .add::<ExportSummary>();
    }
    b.section("errors (every failure, as the UI and `--json` receive it)")
        .add::<daftar::ErrorView>()
        .add::<daftar::ErrorKind>()
        .error_codes();
    b.section("JSON values (audit event before/after, error params)")
        .add::<serde_json::Value>();
    b
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH)
}

#[test]
fn every_type_the_file_refers_to_is_declared_in_it() {
    let b = bindings();
    let missing: Vec<String> = b
        .referenced
        .iter()
        .filter(|(_, to)| !b.declared.contains(to))
        .map(|(from, to)| format!("{from} refers to {to}"))
        .collect();
    assert!(
        missing.is_empty(),
        "add these types to bindings() in tests/bindings.rs: {missing:?}"
    );
}

#[test]
fn amounts_are_strings_and_ids_are_numbers() {
    let text = bindings().text;
    for field in [
        "amount: string",
        "refundable: string",
        "requested_amount: string | null",
    ] {
        assert!(text.contains(field), "bindings lack `{field}`");
    }
    assert!(!text.contains("bigint"), "a 64-bit integer became bigint");
    assert!(
        text.contains("\"refund\" | \"capture\""),
        "OperationKind is not a union of words"
    );
}

#[test]
fn the_checked_in_bindings_are_fresh() {
    let generated = bindings().text;
    let path = path();
    if std::env::var_os("DAFTAR_UPDATE_BINDINGS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {BINDINGS_PATH} ({e}): generate it with \
             `DAFTAR_UPDATE_BINDINGS=1 cargo test --locked --test bindings` and commit it"
        )
    });
    if checked_in != generated {
        let first = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "{BINDINGS_PATH} is stale: the Rust types changed (first difference at line {}). \
             Regenerate it with `DAFTAR_UPDATE_BINDINGS=1 cargo test --locked --test bindings` \
             and commit it.\n--- checked in: {:?}\n+++ generated: {:?}",
            first + 1,
            checked_in.lines().nth(first),
            generated.lines().nth(first),
        );
    }
}

/// What the UI sends, as the declarations allow it (optional fields left out), is what the
/// core reads; the words stay text until the facade checks them.
#[test]
fn requests_deserialize_from_what_the_declarations_allow() {
    use daftar::ledger::{PaymentInput, PaymentLookup, ProfileChange, QueueRequest, RetryRequest};
    use serde_json::{from_value, json};

    let queue: QueueRequest =
        from_value(json!({"kind": "refund", "payment": {"order_no": "INV-1"}})).unwrap();
    assert_eq!(
        queue,
        QueueRequest {
            kind: "refund".into(),
            payment: PaymentLookup {
                order_no: Some("INV-1".into()),
                ..PaymentLookup::default()
            },
            amount: None,
            reason: None,
        }
    );
    let input: PaymentInput = from_value(json!({
        "profile": "shop", "session_id": "s1", "amount": "1.500", "currency": "KWD",
        "state": "paid"
    }))
    .unwrap();
    assert_eq!((input.amount.as_str(), input.order_no), ("1.500", None));
    let retry: RetryRequest =
        from_value(json!({"id": 7, "confirm_not_applied": true, "reason": "checked"})).unwrap();
    assert_eq!((retry.id, retry.reason.as_deref()), (7, Some("checked")));
    let change: ProfileChange = from_value(json!({"name": "shop", "currency": "USD"})).unwrap();
    assert_eq!(
        (change.base_url, change.currency.as_deref()),
        (None, Some("USD"))
    );
    // An unknown word is not refused on the way in: the facade refuses it, with its field.
    let odd: QueueRequest =
        from_value(json!({"kind": "refnd", "payment": {"session_id": "s1"}})).unwrap();
    assert_eq!(odd.kind, "refnd");
}
