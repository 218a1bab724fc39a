//! The demo: the Ottu sandbox (crate `daftar-sandbox`) served in-process on loopback,
//! on a ledger of its own, so a first-time user sees the whole app without an Ottu
//! account and the merchant's ledger never holds a fake payment. `demo_start` switches
//! the app to the demo's ledger (`<stem>.demo.sqlite3` beside the merchant's): the worker
//! is stopped, that ledger opened, the sandbox started, the profile `demo` added with the
//! sandbox's API key in the keyring and the sample payments imported (the first time; a
//! key the keyring lost, a throwaway one, is stored again), and the worker started on it.
//! `demo_leave` shuts the sandbox down and switches back to the merchant's ledger. The app
//! always starts on the merchant's ledger.
//!
//! "Offline" shuts the sandbox down (its port stops answering, so the sync worker sees
//! exactly what a lost network looks like); "online" starts it again on the same port with
//! the same state file (`<stem>.demo-sandbox.sqlite3`, beside the demo's ledger).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use daftar::ledger::ProfileChange;
use daftar::secrets::{Credential, SecretString};
use daftar::{Error, ErrorView, Ledger};
use daftar_sandbox::{Config, RunningSandbox, Sandbox};

use crate::contract::DemoStatus;
use crate::events;
use crate::jobs;
use crate::state::{AppState, Shared, blocking, lock};

/// The demo profile's name.
pub const DEMO_PROFILE: &str = "demo";
/// Sample payments seeded into a new sandbox (all on gateways that accept refunds).
pub const DEMO_PAYMENTS: u32 = 40;
const DEMO_CURRENCY: &str = "KWD";

pub struct Demo {
    /// The demo's ledger and the sandbox's state file, beside the merchant's ledger;
    /// `None` without a ledger file.
    paths: Option<(PathBuf, PathBuf)>,
    sandbox: Option<RunningSandbox>,
    /// The demo profile's base URL once this run knows it (kept while offline).
    base_url: Option<String>,
}

impl Demo {
    pub fn new(ledger_path: Option<&PathBuf>) -> Demo {
        Demo {
            paths: ledger_path.map(|p| (demo_ledger_path(p), sandbox_state_path(p))),
            sandbox: None,
            base_url: None,
        }
    }

    /// The sandbox, taken out (to shut it down on exit).
    pub fn take_sandbox(&mut self) -> Option<RunningSandbox> {
        self.sandbox.take()
    }

    fn status(&self, state: &AppState) -> DemoStatus {
        let active = state.in_demo();
        DemoStatus {
            active,
            online: active && self.sandbox.is_some(),
            profile: active.then(|| DEMO_PROFILE.to_string()),
            base_url: self.base_url.clone().filter(|_| active),
        }
    }

    fn paths(&self) -> Result<(PathBuf, PathBuf), ErrorView> {
        self.paths
            .clone()
            .ok_or_else(|| unavailable("there is no ledger file to keep the demo's beside"))
    }

    /// Starts the sandbox on `port` (0: any free port).
    fn serve(&mut self, port: u16) -> Result<&RunningSandbox, ErrorView> {
        if self.sandbox.is_none() {
            let (_, state_path) = self.paths()?;
            let sandbox = Sandbox::start(Config {
                port,
                payments: DEMO_PAYMENTS,
                varied_gateways: false,
                state_path: Some(state_path),
                ..Config::default()
            })
            .map_err(|e| unavailable(&format!("the demo's Ottu sandbox cannot start: {e}")))?;
            self.base_url = Some(sandbox.base_url().to_string());
            self.sandbox = Some(sandbox);
        }
        self.sandbox
            .as_ref()
            .ok_or_else(|| unavailable("the demo's Ottu sandbox is not running"))
    }

    /// On the demo's ledger (just opened, no worker on it yet): the sandbox on the port
    /// its profile names (any free one when that is taken: the profile follows), the
    /// profile, its key when the keyring does not have it. The sample payments' ids when
    /// the profile is new (they are to be imported), else `None`.
    fn prepare(&mut self, ledger: &mut Ledger) -> Result<Option<Vec<String>>, ErrorView> {
        let existing = ledger.profile(DEMO_PROFILE).ok();
        let port = match &existing {
            Some(profile) => Some(loopback_port(&profile.base_url).ok_or_else(|| {
                Error::invalid(
                    "profile",
                    "demo.profile_taken",
                    format!(
                        "the demo's ledger has a profile named {DEMO_PROFILE} for {}: the demo needs that name; remove that profile from the demo first",
                        profile.base_url
                    ),
                )
                .with("profile", DEMO_PROFILE)
                .view()
            })?),
            None => None,
        };
        if let Some(port) = port
            && let Err(error) = self.serve(port)
        {
            tracing::info!(
                port,
                "the demo's port is taken ({}): another one",
                error.message
            );
        }
        // Running on the profile's port already, or any free one.
        let sandbox = self.serve(0)?;
        let base_url = sandbox.base_url().to_string();
        let api_key = SecretString::from(sandbox.api_key());
        let session_ids: Vec<String> = sandbox
            .state()
            .map_err(|e| unavailable(&format!("the demo's Ottu sandbox cannot be read: {e}")))?
            .payments
            .into_iter()
            .map(|p| p.session_id)
            .collect();
        match &existing {
            None => {
                ledger
                    .add_profile(DEMO_PROFILE, &base_url, DEMO_CURRENCY)
                    .map_err(|e| e.view())?;
            }
            Some(profile) if profile.base_url != base_url => {
                ledger
                    .set_profile(&ProfileChange {
                        name: DEMO_PROFILE.to_string(),
                        base_url: Some(base_url),
                        currency: None,
                    })
                    .map_err(|e| e.view())?;
            }
            Some(_) => {}
        }
        // Also on a demo ledger from before whose key a throwaway keyring lost.
        if !ledger
            .profile_show(DEMO_PROFILE)
            .map_err(|e| e.view())?
            .key_stored
        {
            ledger
                .set_key(DEMO_PROFILE, Credential::ApiKey(api_key))
                .map_err(|e| e.view())?;
        }
        Ok(existing.is_none().then_some(session_ids))
    }
}

fn sibling(ledger: &Path, suffix: &str) -> PathBuf {
    let stem = ledger
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger".into());
    ledger.with_file_name(format!("{stem}.{suffix}.sqlite3"))
}

/// The demo's own ledger, beside the merchant's.
fn demo_ledger_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "demo")
}

fn sandbox_state_path(ledger: &Path) -> PathBuf {
    sibling(ledger, "demo-sandbox")
}

fn unavailable(message: &str) -> ErrorView {
    Error::Unavailable {
        code: "demo.start_failed",
        message: message.to_string(),
    }
    .view()
}

fn not_started() -> ErrorView {
    Error::invalid(
        "online",
        "demo.not_started",
        "the demo is not running: start it first",
    )
    .view()
}

/// The port of a demo profile's base URL (`http://127.0.0.1:PORT`); `None` for any other
/// URL.
fn loopback_port(base_url: &str) -> Option<u16> {
    let rest = base_url.strip_prefix("http://127.0.0.1:")?;
    rest.trim_end_matches('/').parse().ok()
}

pub async fn status(state: &Shared) -> Result<DemoStatus, ErrorView> {
    let state = Arc::clone(state);
    blocking(move || Ok(lock(&state.demo).status(&state))).await
}

/// The open ledger changed or the sandbox went on or off: the window hears it.
fn announce(state: &Shared, status: &DemoStatus) {
    state.ui.emit(events::DEMO_STATUS, status);
    state.emit_sync_state();
}

/// `demo_start`: the app on the demo's ledger with its sandbox running (the sample
/// payments imported the first time: `import-progress`/`import-finished` are sent as for
/// any import). In the demo already, it only brings the sandbox back online.
pub async fn start(state: &Shared) -> Result<DemoStatus, ErrorView> {
    let shared = Arc::clone(state);
    let session_ids = blocking(move || enter(&shared)).await?;
    if let Some(session_ids) = session_ids {
        let request = daftar::import::ImportRequest {
            profile: DEMO_PROFILE.to_string(),
            session_ids,
            from_file: None,
        };
        let (id, job) = jobs::prepare_import(state, request).await?;
        let finished = jobs::run_import(Arc::clone(state), id, job).await;
        if let Some(error) = finished.error {
            return Err(error);
        }
    }
    state.wake_sync();
    let status = status(state).await?;
    announce(state, &status);
    Ok(status)
}

/// The blocking part of `demo_start`; the ids to import, or `None`.
fn enter(state: &Shared) -> Result<Option<Vec<String>>, ErrorView> {
    let mut demo = lock(&state.demo);
    if state.in_demo() {
        if let Some(port) = demo.base_url.as_deref().and_then(loopback_port) {
            demo.serve(port)?;
        }
        return Ok(None);
    }
    let (ledger_path, _) = demo.paths()?;
    let entered = state.switch_ledger(ledger_path, true, |ledger| demo.prepare(ledger));
    if entered.is_err() {
        // The merchant's ledger stays open; the sandbox has nothing to serve.
        if let Some(sandbox) = demo.take_sandbox() {
            sandbox.shutdown();
        }
    }
    entered
}

/// `demo_leave`: the sandbox shut down and the merchant's ledger open again, its worker
/// started (unless the merchant paused sending). Outside the demo it changes nothing.
pub async fn leave(state: &Shared) -> Result<DemoStatus, ErrorView> {
    let shared = Arc::clone(state);
    let changed = blocking(move || {
        let mut demo = lock(&shared.demo);
        if !shared.in_demo() {
            return Ok(false);
        }
        let path = shared.config.ledger_path.clone()?;
        shared.switch_ledger(path, false, |_| Ok(()))?;
        if let Some(sandbox) = demo.take_sandbox() {
            sandbox.shutdown();
        }
        Ok(true)
    })
    .await?;
    let status = status(state).await?;
    if changed {
        announce(state, &status);
    }
    Ok(status)
}

/// `demo_set_online`: shuts the sandbox down or starts it again on its port.
pub async fn set_online(state: &Shared, online: bool) -> Result<DemoStatus, ErrorView> {
    let shared = Arc::clone(state);
    blocking(move || {
        let mut demo = lock(&shared.demo);
        let port = demo.base_url.as_deref().and_then(loopback_port);
        let Some(port) = port.filter(|_| shared.in_demo()) else {
            return Err(not_started());
        };
        if online {
            demo.serve(port)?;
        } else if let Some(sandbox) = demo.sandbox.take() {
            // Waits for requests in flight (at most 2 s), then the port is closed.
            sandbox.shutdown();
        }
        Ok(())
    })
    .await?;
    state.wake_sync();
    let status = status(state).await?;
    state.ui.emit(events::DEMO_STATUS, &status);
    Ok(status)
}

/// The running demo sandbox's settlement file (`demo.not_started` when the demo is not
/// running or its sandbox is offline).
pub async fn settlement_file(state: &Shared) -> Result<daftar_sandbox::SettlementFile, ErrorView> {
    let state = Arc::clone(state);
    blocking(move || {
        if !state.in_demo() {
            return Err(not_started());
        }
        let demo = lock(&state.demo);
        let sandbox = demo.sandbox.as_ref().ok_or_else(not_started)?;
        sandbox
            .settlement_file()
            .map_err(|e| unavailable(&format!("the demo's settlement file cannot be made: {e}")))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loopback_base_url_is_the_demo() {
        assert_eq!(loopback_port("http://127.0.0.1:4010"), Some(4010));
        assert_eq!(loopback_port("http://127.0.0.1:4010/"), Some(4010));
        assert_eq!(loopback_port("https://pay.example.com"), None);
        assert_eq!(loopback_port("http://127.0.0.1:x"), None);
    }

    #[test]
    fn the_demo_s_files_are_kept_beside_the_ledger() {
        assert_eq!(
            demo_ledger_path(Path::new("/data/ledger.sqlite3")),
            PathBuf::from("/data/ledger.demo.sqlite3")
        );
        assert_eq!(
            sandbox_state_path(Path::new("/data/ledger.sqlite3")),
            PathBuf::from("/data/ledger.demo-sandbox.sqlite3")
        );
    }
}
