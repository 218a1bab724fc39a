//! The Ottu sandbox: a loopback HTTP server that behaves like Ottu's operations API for
//! Daftar's demo, tests and benchmarks, with seeded data, a controllable clock, fault
//! injection and a read-only inspection endpoint. It is an independent implementation of
//! CONTRACT.md (it does not use the `daftar` crate), so it can catch Daftar's mistakes.
//!
//! ```no_run
//! use daftar_sandbox::{Config, NewPayment, Sandbox};
//!
//! let sandbox = Sandbox::start(Config::empty()).expect("sandbox starts");
//! let payment = sandbox.add_payment(NewPayment::paid("25.000")).expect("payment added");
//! println!("{} {}", sandbox.base_url(), payment.session_id);
//! let state = sandbox.state().expect("state readable");
//! assert_eq!(state.payments.len(), 1);
//! sandbox.shutdown();
//! ```

mod auth;
mod clock;
mod engine;
pub mod faults;
pub mod gateway;
mod http;
pub mod model;
pub mod money;
mod report;
mod rules;
mod seed;
pub mod settlement;
mod shared;
pub mod snapshot;
mod store;
mod views;
mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::watch;

pub use clock::{ClockError, MAX_CLOCK_OFFSET_MS};
pub use engine::{
    INQUIRY_GLOBAL_LIMIT, INQUIRY_GLOBAL_WINDOW_MS, INQUIRY_GRACE_MS, INQUIRY_INTERVAL_MS,
    INQUIRY_MAX_PER_PAYMENT,
};
pub use faults::{FaultConfig, FaultScope, FaultSpecError};
pub use http::{ADMIN_TOKEN_HEADER, HEADER_READ_TIMEOUT};
pub use model::{ChildState, Destination, OperationKind, PaymentState, Permission};
pub use report::CSV_HEADER as REPORT_CSV_HEADER;
pub use report::{XLSX_AR_COLUMNS as REPORT_XLSX_AR_COLUMNS, XLSX_CONTENT_TYPE};
pub use seed::SEED_EPOCH_MS;
pub use settlement::{SettlementFile, SettlementLine};
pub use shared::{AdminError, NewPayment, UserSpec, UserSpecError};
pub use snapshot::{
    ChildSnapshot, Counters, FaultCounters, OperationRecord, PaymentSnapshot, StateSnapshot,
};
pub use store::StoreError;

/// The API key when none is given.
pub const DEFAULT_API_KEY: &str = "sandbox-demo-key";
pub const DEFAULT_SEED: u64 = 42;
pub const DEFAULT_PAYMENTS: u32 = 200;
/// How long (sandbox clock) a `refund_queued` child waits before it settles.
pub const DEFAULT_SETTLE_AFTER_MS: u64 = 2_000;
/// Tokio worker threads: the sandbox shares a small machine with the code under test.
const WORKER_THREADS: usize = 2;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    /// Seeds the demo data, the ids and the fault RNG.
    pub seed: u64,
    /// How many payments to seed into a fresh state (ignored when `state_path` holds data).
    pub payments: u32,
    /// Seed payments on the gateways that refuse (`refuse-pg`) or reject (`reject-pg`)
    /// refunds, and foreign-currency payments. Turn off for runs that need every refund to
    /// succeed eventually.
    pub varied_gateways: bool,
    pub faults: FaultConfig,
    /// SQLite state file; `None` keeps everything in memory.
    pub state_path: Option<PathBuf>,
    pub api_key: String,
    /// Basic-auth users (added to, or updated in, the state file).
    pub users: Vec<UserSpec>,
    pub settle_after_ms: u64,
    /// Starting offset of the sandbox clock from the machine's clock (at most
    /// [`MAX_CLOCK_OFFSET_MS`] either way).
    pub clock_offset_ms: i64,
    /// The token that opens the `/_sandbox/` endpoints from any `Host` (header
    /// [`ADMIN_TOKEN_HEADER`]); `None` makes a random one at each start.
    pub admin_token: Option<String>,
    /// How long a connection may take to send a request's head (line and headers), and how
    /// long it may sit idle between requests, before it is closed.
    pub header_read_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            port: 0,
            seed: DEFAULT_SEED,
            payments: DEFAULT_PAYMENTS,
            varied_gateways: true,
            faults: FaultConfig::none(),
            state_path: None,
            api_key: DEFAULT_API_KEY.to_owned(),
            users: Vec::new(),
            settle_after_ms: DEFAULT_SETTLE_AFTER_MS,
            clock_offset_ms: 0,
            admin_token: None,
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

impl Config {
    /// Defaults, but no seeded payments: the test adds exactly the ones it needs.
    pub fn empty() -> Config {
        Config {
            payments: 0,
            ..Config::default()
        }
    }
}

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("invalid faults: {0}")]
    Faults(#[from] FaultSpecError),
    #[error("at most {max} seeded payments, not {requested}")]
    TooManyPayments { requested: u32, max: u32 },
    #[error("the API key must not be empty")]
    EmptyApiKey,
    #[error("the admin token must not be empty (leave it out for a random one)")]
    EmptyAdminToken,
    #[error("header_read_timeout must be more than 0, not {0:?}")]
    ZeroHeaderReadTimeout(Duration),
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Opens (or creates and seeds) the state, binds `127.0.0.1:port` and serves on a
    /// background thread with its own Tokio runtime, so it works from `#[test]` and
    /// `#[tokio::test]` alike. Returns once the port is listening.
    pub fn start(config: Config) -> Result<RunningSandbox, StartError> {
        config.faults.validate()?;
        if config.api_key.is_empty() {
            return Err(StartError::EmptyApiKey);
        }
        if config.admin_token.as_deref() == Some("") {
            return Err(StartError::EmptyAdminToken);
        }
        if config.header_read_timeout.is_zero() {
            return Err(StartError::ZeroHeaderReadTimeout(
                config.header_read_timeout,
            ));
        }
        let clock = Arc::new(clock::SandboxClock::new(config.clock_offset_ms)?);
        if config.payments > seed::MAX_SEEDED_PAYMENTS {
            return Err(StartError::TooManyPayments {
                requested: config.payments,
                max: seed::MAX_SEEDED_PAYMENTS,
            });
        }
        let mut store = store::Store::open(config.state_path.as_deref())?;
        // The seed that named the stored data keeps naming new children after a restart.
        let (seed, fresh) = match store.db().meta("seed")? {
            Some(stored) => (stored.parse().unwrap_or(config.seed), false),
            None => {
                let plan = seed::SeedPlan {
                    seed: config.seed,
                    payments: config.payments,
                    varied_gateways: config.varied_gateways,
                };
                store.write(|db| -> Result<(), StoreError> {
                    db.set_meta("seed", &config.seed.to_string())?;
                    seed::seed_payments(db, plan)
                })?;
                (config.seed, true)
            }
        };
        for user in &config.users {
            let row = store::UserRow {
                name: user.name.clone(),
                password: user.password.clone(),
                permissions: user.permissions.clone(),
            };
            store.write(|db| db.upsert_user(&row))?;
        }
        let credentials = auth::Credentials::new(config.api_key.clone(), store.db().users()?);

        let listener =
            std::net::TcpListener::bind(("127.0.0.1", config.port)).map_err(|source| {
                StartError::Bind {
                    port: config.port,
                    source,
                }
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: config.port,
            source,
        })?;
        let base_url = format!("http://{addr}");

        // A random token (122 bits from the OS) per start: a web page cannot guess it.
        let admin_token = config
            .admin_token
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let writer = writer::Writer::start(store, clock.clone(), seed, config.settle_after_ms)
            .map_err(StartError::Runtime)?;
        let shared = Arc::new(shared::Shared::new(
            writer,
            clock,
            faults::FaultInjector::new(config.faults.clone(), config.seed),
            credentials,
            seed,
            base_url.clone(),
            shared::AdminAccess {
                port: addr.port(),
                token: admin_token.clone(),
            },
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("daftar-sandbox")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let serving = shared.clone();
        let header_read_timeout = config.header_read_timeout;
        let thread = std::thread::Builder::new()
            .name("daftar-sandbox".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            http::serve(listener, serving, shutdown_rx, header_read_timeout).await
                        }
                        Err(e) => eprintln!("daftar-sandbox: cannot serve: {e}"),
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(StartError::Runtime)?;
        Ok(RunningSandbox {
            addr,
            base_url,
            api_key: config.api_key,
            admin_token,
            fresh,
            shared,
            shutdown_tx,
            thread: Some(thread),
        })
    }
}

/// The settlement file for the payments in a sandbox state file (`--state FILE`), without
/// starting a server: what `daftar-sandbox settlement --state FILE --out FILE` writes. A
/// missing file or one that is not a sandbox state is an error (nothing is created).
pub fn settlement_file_from_state(path: &std::path::Path) -> Result<SettlementFile, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Corrupt {
            what: "state file",
            value: format!("{} does not exist", path.display()),
        });
    }
    let store = store::Store::open(Some(path))?;
    let db = store.db();
    let seed = db
        .meta("seed")?
        .ok_or_else(|| StoreError::Corrupt {
            what: "state file",
            value: format!("{} holds no sandbox state", path.display()),
        })?
        .parse()
        .map_err(|_| StoreError::Corrupt {
            what: "seed",
            value: path.display().to_string(),
        })?;
    settlement::build(&db, seed)
}

/// A sandbox serving on a background thread. Dropping it shuts it down.
pub struct RunningSandbox {
    addr: SocketAddr,
    base_url: String,
    api_key: String,
    admin_token: String,
    fresh: bool,
    shared: Arc<shared::Shared>,
    shutdown_tx: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The `Authorization` header value for the API key: `Api-Key <key>`.
    pub fn api_key_header(&self) -> String {
        format!("Api-Key {}", self.api_key)
    }

    /// The token that opens the `/_sandbox/` endpoints from any `Host`: send it in the
    /// [`ADMIN_TOKEN_HEADER`] header. Requests to `127.0.0.1:PORT` (or `localhost`, `[::1]`)
    /// need no token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// True when this start created (and seeded) the state; false when it reopened a file.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Everything the sandbox knows (the same as `GET /_sandbox/state`).
    pub fn state(&self) -> Result<StateSnapshot, StoreError> {
        self.shared.snapshot()
    }

    /// Replaces the faults (and reseeds their RNG).
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), FaultSpecError> {
        faults.validate()?;
        self.shared.set_faults(faults);
        Ok(())
    }

    pub fn faults(&self) -> FaultConfig {
        self.shared.faults().config().clone()
    }

    /// Adds one payment with exactly these fields.
    pub fn add_payment(&self, payment: NewPayment) -> Result<PaymentSnapshot, AdminError> {
        self.shared.add_payment(payment)
    }

    /// Adds or updates a Basic-auth user.
    pub fn add_user(&self, user: UserSpec) -> Result<(), StoreError> {
        self.shared.upsert_user(user)
    }

    /// Settles every `refund_queued` child now; returns how many.
    pub fn settle_now(&self) -> Result<usize, StoreError> {
        self.shared.settle_now()
    }

    /// The acquirer's settlement file for the payments as they are now (see
    /// [`settlement`]): the same as `GET /_sandbox/settlement`.
    pub fn settlement_file(&self) -> Result<SettlementFile, StoreError> {
        let seed = self.shared.seed;
        self.shared.store(move |db, _| settlement::build(db, seed))
    }

    /// Moves the sandbox clock forward; returns the new offset in ms. Refused (nothing
    /// changes) when the clock would end up more than [`MAX_CLOCK_OFFSET_MS`] ahead.
    pub fn advance_clock(&self, by: Duration) -> Result<i64, ClockError> {
        self.shared
            .clock
            .advance_ms(i64::try_from(by.as_millis()).unwrap_or(i64::MAX))
    }

    /// The sandbox clock, in ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Stops accepting, lets in-flight requests finish (up to 2 s), closes the state file.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
