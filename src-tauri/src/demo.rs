//! The demo: the Ottu sandbox (crate `daftar-sandbox`) served in-process on loopback,
//! a profile `demo` pointing at it with the sandbox's API key in the keyring, and its
//! sample payments imported, so a first-time user sees the whole app without an Ottu
//! account. "Offline" shuts the sandbox down (its port stops answering, so the sync worker
//! sees exactly what a lost network looks like); "online" starts it again on the same
//! port with the same state file. When the app starts and the ledger has the demo profile,
//! the sandbox is started again on its port.
//!
//! The sandbox's state lives beside the ledger (`<ledger stem>.demo-sandbox.sqlite3`):
//! the demo profile belongs to one ledger, so two ledgers (`DAFTAR_DB`) never share the
//! sandbox's refunds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use daftar::secrets::{Credential, SecretString};
use daftar::{Error, ErrorView, Ledger};
use daftar_sandbox::{Config, RunningSandbox, Sandbox};

use crate::contract::DemoStatus;
use crate::events;
use crate::jobs;
use crate::state::{Shared, blocking, lock};

/// The demo profile's name.
pub const DEMO_PROFILE: &str = "demo";
/// Sample payments seeded into a new sandbox (all on gateways that accept refunds).
pub const DEMO_PAYMENTS: u32 = 40;
const DEMO_CURRENCY: &str = "KWD";

pub struct Demo {
    /// The sandbox's state file; `None` without a ledger file.
    state_path: Option<PathBuf>,
    sandbox: Option<RunningSandbox>,
    /// The demo profile's base URL once this run knows it (kept while offline).
    base_url: Option<String>,
}

impl Demo {
    pub fn new(ledger_path: Option<&PathBuf>) -> Demo {
        Demo {
            state_path: ledger_path.map(|p| sandbox_state_path(p)),
            sandbox: None,
            base_url: None,
        }
    }

    /// The sandbox, taken out (to shut it down on exit).
    pub fn take_sandbox(&mut self) -> Option<RunningSandbox> {
        self.sandbox.take()
    }

    fn status(&self, ledger: &mut Ledger) -> DemoStatus {
        let active = self.base_url.is_some() && ledger.profile(DEMO_PROFILE).is_ok();
        DemoStatus {
            active,
            online: active && self.sandbox.is_some(),
            profile: active.then(|| DEMO_PROFILE.to_string()),
            base_url: self.base_url.clone().filter(|_| active),
        }
    }

    /// Starts the sandbox on `port` (0: any free port).
    fn serve(&mut self, port: u16) -> Result<&RunningSandbox, ErrorView> {
        if self.sandbox.is_none() {
            let state_path = self.state_path.clone().ok_or_else(|| {
                unavailable("there is no ledger file to keep the demo's state beside")
            })?;
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
}

fn sandbox_state_path(ledger: &Path) -> PathBuf {
    let stem = ledger
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger".into());
    ledger.with_file_name(format!("{stem}.demo-sandbox.sqlite3"))
}

fn unavailable(message: &str) -> ErrorView {
    Error::Unavailable {
        code: "demo.start_failed",
        message: message.to_string(),
    }
    .view()
}

/// The port of a demo profile's base URL (`http://127.0.0.1:PORT`); `None` for any other
/// URL: such a profile named `demo` is the merchant's own, and is left alone.
fn loopback_port(base_url: &str) -> Option<u16> {
    let rest = base_url.strip_prefix("http://127.0.0.1:")?;
    rest.trim_end_matches('/').parse().ok()
}

pub async fn status(state: &Shared) -> Result<DemoStatus, ErrorView> {
    let state = Arc::clone(state);
    blocking(move || {
        let ledger = state.ledger()?;
        let demo = lock(&state.demo);
        Ok(demo.status(&mut lock(&ledger)))
    })
    .await
}

/// `demo_start`: the sandbox, the profile, its key, and the sample payments imported
/// (`import-progress`/`import-finished` are sent as for any import). Starting an active
/// demo changes nothing.
pub async fn start(state: &Shared) -> Result<DemoStatus, ErrorView> {
    let shared = Arc::clone(state);
    let session_ids = blocking(move || prepare(&shared)).await?;
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
    state.ui.emit(events::DEMO_STATUS, &status);
    Ok(status)
}

/// The blocking part of `demo_start`; the ids to import, or `None` when already active.
fn prepare(state: &Shared) -> Result<Option<Vec<String>>, ErrorView> {
    let ledger = state.ledger()?;
    let mut demo = lock(&state.demo);
    if demo.sandbox.is_some() && demo.status(&mut lock(&ledger)).active {
        return Ok(None);
    }
    let existing = lock(&ledger).profile(DEMO_PROFILE).ok();
    let port = match &existing {
        Some(profile) => loopback_port(&profile.base_url).ok_or_else(|| {
            Error::invalid(
                "profile",
                "demo.profile_taken",
                format!(
                    "a profile named {DEMO_PROFILE} exists for {}: the demo needs that name; rename or remove that profile first",
                    profile.base_url
                ),
            )
            .with("profile", DEMO_PROFILE)
            .view()
        })?,
        None => 0,
    };
    let sandbox = demo.serve(port)?;
    let base_url = sandbox.base_url().to_string();
    let api_key = SecretString::from(sandbox.api_key());
    let session_ids: Vec<String> = sandbox
        .state()
        .map_err(|e| unavailable(&format!("the demo's Ottu sandbox cannot be read: {e}")))?
        .payments
        .into_iter()
        .map(|p| p.session_id)
        .collect();
    let mut ledger = lock(&ledger);
    if existing.is_none() {
        ledger
            .add_profile(DEMO_PROFILE, &base_url, DEMO_CURRENCY)
            .map_err(|e| e.view())?;
    }
    if !ledger
        .profile_show(DEMO_PROFILE)
        .map_err(|e| e.view())?
        .key_stored
    {
        ledger
            .set_key(DEMO_PROFILE, Credential::ApiKey(api_key))
            .map_err(|e| e.view())?;
    }
    Ok(Some(session_ids))
}

/// `demo_set_online`: shuts the sandbox down or starts it again on its port.
pub async fn set_online(state: &Shared, online: bool) -> Result<DemoStatus, ErrorView> {
    let shared = Arc::clone(state);
    blocking(move || {
        let ledger = shared.ledger()?;
        let mut demo = lock(&shared.demo);
        let Some(port) = demo.base_url.as_deref().and_then(loopback_port) else {
            return Err(Error::invalid(
                "online",
                "demo.not_started",
                "the demo is not running: start it first",
            )
            .view());
        };
        if !demo.status(&mut lock(&ledger)).active {
            return Err(Error::invalid(
                "online",
                "demo.not_started",
                "the demo is not running: start it first",
            )
            .view());
        }
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

/// On app start: the ledger has the demo profile, so its sandbox comes back on its port.
/// A failure (the port taken meanwhile) is logged; the demo then shows offline.
pub fn resume_on_start(state: &Shared) {
    let Ok(ledger) = state.ledger() else { return };
    let Ok(profile) = lock(&ledger).profile(DEMO_PROFILE) else {
        return;
    };
    let Some(port) = loopback_port(&profile.base_url) else {
        return;
    };
    let mut demo = lock(&state.demo);
    demo.base_url = Some(profile.base_url.clone());
    if let Err(error) = demo.serve(port) {
        tracing::warn!(
            code = error.code,
            "demo sandbox not restarted: {}",
            error.message
        );
    }
    let status = demo.status(&mut lock(&ledger));
    drop(demo);
    state.ui.emit(events::DEMO_STATUS, &status);
    state.wake_sync();
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
    fn the_sandbox_state_is_kept_beside_the_ledger() {
        assert_eq!(
            sandbox_state_path(Path::new("/data/ledger.sqlite3")),
            PathBuf::from("/data/ledger.demo-sandbox.sqlite3")
        );
    }
}
