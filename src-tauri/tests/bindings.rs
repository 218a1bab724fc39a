//! The shell's own TypeScript types, `ui/src/lib/app-bindings.ts`, are generated from its
//! Rust types (ts-rs) and checked in, as the core's `ui/src/lib/bindings.ts` is by the
//! core's tests/bindings.rs. Core types they refer to are imported from `./bindings`.
//!
//! Regenerate with `DAFTAR_UPDATE_BINDINGS=1 cargo test --locked -p daftar-app --test bindings`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ts_rs::{Config, TS};

const BINDINGS_PATH: &str = "../ui/src/lib/app-bindings.ts";

const HEADER: &str = "\
// Generated from the desktop shell's Rust types (src-tauri/src/contract.rs) by
// src-tauri/tests/bindings.rs (ts-rs). Do not edit by hand: change the Rust type, then run
//   DAFTAR_UPDATE_BINDINGS=1 cargo test --locked -p daftar-app --test bindings
// The core's types (ErrorView, SyncStatus, ImportSummary...) come from ./bindings.
";

struct Bindings {
    cfg: Config,
    body: String,
    declared: BTreeSet<String>,
    referenced: BTreeSet<String>,
}

impl Bindings {
    fn add<T: TS + 'static>(&mut self) -> &mut Self {
        let name = T::ident(&self.cfg);
        assert!(self.declared.insert(name.clone()), "{name} is listed twice");
        self.body.push('\n');
        if let Some(docs) = T::docs() {
            self.body.push_str(&docs);
        }
        self.body.push_str("export ");
        self.body.push_str(&T::decl(&self.cfg));
        self.body.push('\n');
        for dependency in T::dependencies(&self.cfg) {
            self.referenced.insert(dependency.ts_name);
        }
        self
    }

    /// The header, the imports of the core's types, the declarations.
    fn text(&self) -> String {
        let imported: Vec<&str> = self
            .referenced
            .iter()
            .filter(|name| !self.declared.contains(*name))
            .map(String::as_str)
            .collect();
        format!(
            "{HEADER}\nimport type {{ {} }} from './bindings'\n{}",
            imported.join(", "),
            self.body
        )
    }
}

fn bindings() -> Bindings {
    use daftar_app::contract::*;
    let mut b = Bindings {
        cfg: Config::new().with_large_int("number"),
        body: String::new(),
        declared: BTreeSet::new(),
        referenced: BTreeSet::new(),
    };
    b.add::<AppInfo>()
        .add::<SyncState>()
        .add::<DemoStatus>()
        .add::<ImportStart>()
        .add::<JobStarted>()
        .add::<JobRef>()
        .add::<OperationRef>()
        .add::<DropRequest>()
        .add::<ProfileRef>()
        .add::<NewProfile>()
        .add::<SetKeyRequest>()
        .add::<DemoOnline>()
        .add::<Painted>()
        .add::<ImportProgressEvent>()
        .add::<ImportFinishedEvent>()
        .add::<Upload>()
        .add::<ReconcileStart>()
        .add::<ReconciliationRef>()
        .add::<ProfileFilter>()
        .add::<ExportStart>()
        .add::<ReconcileProgressEvent>()
        .add::<ReconcileFinishedEvent>()
        .add::<ExportProgressEvent>()
        .add::<ExportFinishedEvent>()
        .add::<ReportImportStart>()
        .add::<ReportProgressEvent>()
        .add::<ReportFinishedEvent>()
        .add::<SettlementImportStart>();
    b
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH)
}

/// What the file imports from the core's bindings is declared there.
#[test]
fn every_imported_type_is_in_the_core_bindings() {
    let core = std::fs::read_to_string(path().with_file_name("bindings.ts")).unwrap();
    let b = bindings();
    for name in b.referenced.iter().filter(|n| !b.declared.contains(*n)) {
        assert!(
            core.contains(&format!("export type {name} ")),
            "{name} is not in ui/src/lib/bindings.ts"
        );
    }
}

#[test]
fn the_secret_is_a_plain_string_and_ids_are_numbers() {
    let text = bindings().text();
    assert!(text.contains("secret: string"), "{text}");
    assert!(text.contains("job: number"), "{text}");
    assert!(!text.contains("bigint"));
}

#[test]
fn the_checked_in_app_bindings_are_fresh() {
    let generated = bindings().text();
    let path = path();
    if std::env::var_os("DAFTAR_UPDATE_BINDINGS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ui/src/lib/app-bindings.ts is stale: run DAFTAR_UPDATE_BINDINGS=1 cargo test --locked -p daftar-app --test bindings"
    );
}
