//! The HTTP side: an HTTP/1.1 server on loopback (hyper, one task per connection), routing,
//! authentication, request parsing into the engine's types, fault injection, and the
//! `/_sandbox/` admin endpoints.
//!
//! Every endpoint answers its path with and without the trailing slash: Ottu's paths end in
//! `/`, but Ottu's own Python client (`ottu-py`) retrieves payments without it.
//!
//! The `/_sandbox/` endpoints change what the sandbox does (faults, users, the clock), so a
//! web page the merchant visits must not reach them: they answer a request that carries the
//! admin token printed at start, or one addressed to the sandbox's own loopback `Host` (a
//! DNS-rebinding page sends its own host name); and a change (any method but GET/HEAD)
//! without the token is refused when it comes from another web origin (`Origin`) or with a
//! body a cross-origin form can send (any content type but JSON).
//!
//! A connection that does not finish a request's head within the header read timeout (or
//! sits idle that long between requests) is closed, so half-open connections cannot pile up.
//!
//! The connection loop is written by hand (not a framework's `serve`) for one reason: a
//! drop-after-effect fault must close the TCP connection with no response at all, after the
//! operation has been committed. The handler signals its connection task, which then drops
//! the connection (and the socket) without writing anything.

// Handlers return early with a ready `Response` as their error; moving 144 bytes once per
// request costs nothing next to the I/O, and boxing would only add noise.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{
    ALLOW, CONTENT_DISPOSITION, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, ORIGIN, RETRY_AFTER,
    WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::auth::{AuthError, Forbidden, Principal};
use crate::clock::{ClockError, MAX_CLOCK_OFFSET_MS, check_offset, rfc3339};
use crate::engine::{self, OperationRequest, Reply, ReplyKind, Selector};
use crate::faults::{FaultAction, FaultConfig};
use crate::model::{Destination, OperationKind, Permission};
use crate::money::WireAmount;
use crate::report::{self, ListQuery};
use crate::shared::{
    AdminAccess, AdminError, MAX_IDENTIFIER_LEN, NewPayment, Shared, UserSpec, bump,
};
use crate::store::{Db, StoreError};
use crate::views::{self, FieldErrors};
use crate::writer::BatchCtx;

/// Largest request body read; Ottu operation bodies are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest Tracking-Key accepted (Daftar sends UUIDs: 36 characters).
pub const MAX_TRACKING_KEY_LEN: usize = 255;
/// How long a graceful shutdown waits for in-flight requests before closing connections.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long a client may take to send a request's line and headers, or stay idle between
/// requests on a kept-alive connection, before the sandbox closes it. A real client sends a
/// request head in one write; 10 s is far beyond any loopback delay, yet frees a half-open
/// connection (one that never finishes its request) quickly. Clients that pool connections
/// (reqwest, httpx) notice the close and open a new one.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The request header that carries the admin token printed at start (`admin token: ...`).
/// A custom header: a page on another origin cannot send it without a CORS preflight, which
/// the sandbox never grants.
pub const ADMIN_TOKEN_HEADER: &str = "sandbox-admin-token";

type Body = Full<Bytes>;

/// Accepts connections until `shutdown` changes, then drains them for [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    header_read_timeout: Duration,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small request/response exchanges: don't let Nagle delay them.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(
                        stream,
                        shared.clone(),
                        shutdown.clone(),
                        header_read_timeout,
                    ));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    eprintln!("daftar-sandbox: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

async fn serve_connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    header_read_timeout: Duration,
) {
    let kill = Arc::new(Notify::new());
    let handler_kill = kill.clone();
    let service =
        hyper::service::service_fn(move |req| handle(shared.clone(), handler_kill.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // hyper applies the header read timeout only with a timer.
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut draining = *shutdown.borrow();
    if draining {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            // Drop-after-effect: returning drops the connection and its socket, unanswered.
            _ = kill.notified() => return,
            _ = shutdown.changed(), if !draining => {
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    }
}

fn respond(status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json_response(status: u16, body: String) -> Response<Body> {
    respond(status, "application/json", body)
}

fn reply_response(reply: Reply) -> Response<Body> {
    let mut response = json_response(reply.status, reply.body);
    if let Some(seconds) = reply.retry_after_s {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn detail(status: u16, text: &str) -> Response<Body> {
    json_response(status, views::detail_body(text))
}

fn not_found() -> Response<Body> {
    detail(404, "Not found.")
}

fn method_not_allowed(method: &Method, allow: &'static str) -> Response<Body> {
    let mut response = detail(405, &format!("Method \"{method}\" not allowed."));
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

fn internal_error(error: &dyn std::fmt::Display) -> Response<Body> {
    eprintln!("daftar-sandbox: internal error: {error}");
    detail(500, &format!("Sandbox internal error: {error}"))
}

fn unauthorized(error: &AuthError) -> Response<Body> {
    let mut response = detail(401, &error.to_string());
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Api-Key"));
    response
}

fn forbidden(error: &Forbidden) -> Response<Body> {
    detail(403, &error.to_string())
}

/// Runs store work on the writer thread; a store error becomes a 500.
async fn stored<T: Send + 'static>(
    shared: &Shared,
    work: impl FnOnce(&Db<'_>, &mut BatchCtx<'_>) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Response<Body>> {
    shared
        .store_async(work)
        .await
        .map_err(|e| internal_error(&e))
}

fn flatten(result: Result<Response<Body>, Response<Body>>) -> Response<Body> {
    result.unwrap_or_else(|response| response)
}

/// The Ottu endpoints.
enum Route {
    Operation,
    Inquiry,
    Payment(String),
    ReportList,
    ReportDownload(String),
}

fn route(method: &Method, path: &str) -> Result<Route, Response<Body>> {
    let expect = |wanted: Method, route: Route| {
        if *method == wanted {
            Ok(route)
        } else {
            Err(method_not_allowed(
                method,
                if wanted == Method::GET { "GET" } else { "POST" },
            ))
        }
    };
    // Ottu's paths end in `/`; ottu-py leaves it out: answer both (one slash, not more).
    let path = path.strip_suffix('/').unwrap_or(path);
    match path {
        "/b/pbl/v2/operation" => return expect(Method::POST, Route::Operation),
        "/b/pbl/v2/inquiry" => return expect(Method::POST, Route::Inquiry),
        "/b/api/v1/reports/files" => return expect(Method::GET, Route::ReportList),
        _ => {}
    }
    let is_word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if let Some(id) = path.strip_prefix("/b/checkout/v1/pymt-txn/")
        && is_word(id)
    {
        return expect(Method::GET, Route::Payment(id.to_owned()));
    }
    if let Some(token) = path
        .strip_prefix("/b/api/v1/reports/files/")
        .and_then(|rest| rest.strip_suffix("/download"))
        && is_word(token)
    {
        return expect(Method::GET, Route::ReportDownload(token.to_owned()));
    }
    Err(not_found())
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    if let Some(admin_path) = path.strip_prefix("/_sandbox/") {
        bump(&shared.counters.admin_requests);
        if let Err(refusal) = admin_allowed(&shared.admin, req.method(), req.headers()) {
            return Ok(refusal);
        }
        let admin_path = admin_path
            .strip_suffix('/')
            .unwrap_or(admin_path)
            .to_owned();
        return Ok(admin(shared, &admin_path, req).await);
    }
    bump(&shared.counters.requests);
    let route = match route(req.method(), &path) {
        Ok(route) => route,
        Err(response) => return Ok(response),
    };
    let counter = match route {
        Route::Operation => &shared.counters.operation_requests,
        Route::Inquiry => &shared.counters.inquiry_requests,
        Route::Payment(_) => &shared.counters.payment_requests,
        Route::ReportList | Route::ReportDownload(_) => &shared.counters.report_requests,
    };
    bump(counter);

    let draw = shared.faults().draw(matches!(route, Route::Operation));
    if draw.latency_ms > 0 {
        bump(&shared.counters.fault_latency);
        tokio::time::sleep(Duration::from_millis(draw.latency_ms)).await;
    }
    match draw.action {
        FaultAction::ServerError { status } => {
            bump(&shared.counters.fault_server_error);
            let reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Server Error");
            let html = format!(
                "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>\n"
            );
            return Ok(respond(status, "text/html", html));
        }
        FaultAction::LostBeforeEffect => {
            bump(&shared.counters.fault_lost);
            kill.notify_one();
            let never: Infallible = std::future::pending().await;
            match never {}
        }
        FaultAction::Throttle { retry_after_s } => {
            bump(&shared.counters.fault_throttle);
            let mut response = detail(
                429,
                &format!("Request was throttled. Expected available in {retry_after_s} seconds."),
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_s));
            return Ok(response);
        }
        _ => {}
    }

    let response = match route {
        Route::Operation => operation(&shared, req).await,
        Route::Inquiry => inquiry(&shared, req).await,
        Route::Payment(id) => payment(&shared, &req, id).await,
        Route::ReportList => report_list(&shared, &req).await,
        Route::ReportDownload(token) => report_download(&shared, &req, token).await,
    };

    match draw.action {
        FaultAction::DropAfterEffect => {
            // The effect (if any) is committed: the store work above finished before this.
            bump(&shared.counters.fault_drop);
            kill.notify_one();
            let never: Infallible = std::future::pending().await;
            match never {}
        }
        FaultAction::MalformedAfterEffect => {
            bump(&shared.counters.fault_malformed);
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            // A proper prefix of a JSON object is never valid JSON.
            let cut = body.slice(..body.len() / 2);
            let cut = if cut.is_empty() {
                Bytes::from_static(b"{")
            } else {
                cut
            };
            Ok(respond(200, "application/json", cut))
        }
        _ => Ok(response),
    }
}

fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    permission: Option<Permission>,
) -> Result<Principal, Response<Body>> {
    let header = headers
        .get(hyper::header::AUTHORIZATION)
        .map(|h| h.to_str().unwrap_or("\u{fffd}"));
    let principal = shared.credentials().authenticate(header).map_err(|e| {
        bump(&shared.counters.auth_failures);
        unauthorized(&e)
    })?;
    if let Some(permission) = permission {
        principal.require(permission).map_err(|e| {
            bump(&shared.counters.auth_failures);
            forbidden(&e)
        })?;
    }
    Ok(principal)
}

async fn read_body(body: Incoming) -> Result<Bytes, Response<Body>> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(detail(413, "Request body too large or unreadable.")),
    }
}

/// Parses a JSON or form body into a field map, like Django REST framework's parsers.
fn parse_fields(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, Response<Body>> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" | "" => {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Map::new());
            }
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(other) => {
                    let kind = match other {
                        Value::Array(_) => "list",
                        Value::String(_) => "str",
                        Value::Number(_) => "int",
                        Value::Bool(_) => "bool",
                        _ => "NoneType",
                    };
                    Err(json_response(
                        400,
                        views::field_errors_body(&views::field_error(
                            "non_field_errors",
                            format!("Invalid data. Expected a dictionary, but got {kind}."),
                        )),
                    ))
                }
                Err(e) => Err(detail(400, &format!("JSON parse error - {e}"))),
            }
        }
        "application/x-www-form-urlencoded" => Ok(form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()),
        _ => Err(detail(
            415,
            &format!("Unsupported media type \"{content_type}\" in request."),
        )),
    }
}

fn push_error(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.into());
}

/// An optional `session_id` / `order_no`: a non-blank string of at most 128 characters.
fn identifier(
    fields: &Map<String, Value>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<String> {
    match fields.get(field) {
        None => None,
        Some(Value::String(s)) if s.is_empty() => {
            push_error(errors, field, "This field may not be blank.");
            None
        }
        Some(Value::String(s)) if s.chars().count() > MAX_IDENTIFIER_LEN => {
            push_error(
                errors,
                field,
                format!("Ensure this field has no more than {MAX_IDENTIFIER_LEN} characters."),
            );
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => {
            push_error(errors, field, "This field may not be null.");
            None
        }
        Some(_) => {
            push_error(errors, field, "Not a valid string.");
            None
        }
    }
}

fn tracking_key(headers: &HeaderMap) -> Result<Option<String>, Response<Body>> {
    let Some(value) = headers.get("tracking-key") else {
        return Ok(None);
    };
    let invalid = |message: String| {
        json_response(
            400,
            views::field_errors_body(&views::field_error("tracking_key", message)),
        )
    };
    let text = value
        .to_str()
        .map_err(|_| invalid("The Tracking-Key header must be visible ASCII.".to_owned()))?
        .trim();
    if text.is_empty() || text.len() > MAX_TRACKING_KEY_LEN {
        return Err(invalid(format!(
            "The Tracking-Key header must be 1 to {MAX_TRACKING_KEY_LEN} characters."
        )));
    }
    Ok(Some(text.to_owned()))
}

fn parse_operation(
    fields: &Map<String, Value>,
    principal: &Principal,
    tracking_key: Option<String>,
) -> Result<OperationRequest, Response<Body>> {
    let mut errors = FieldErrors::new();
    let kind = match fields.get("operation") {
        None => {
            push_error(&mut errors, "operation", "This field is required.");
            None
        }
        Some(Value::String(s)) => {
            let kind = OperationKind::parse(s);
            if kind.is_none() {
                push_error(
                    &mut errors,
                    "operation",
                    format!("\"{s}\" is not a valid choice."),
                );
            }
            kind
        }
        Some(Value::Null) => {
            push_error(&mut errors, "operation", "This field may not be null.");
            None
        }
        Some(other) => {
            push_error(
                &mut errors,
                "operation",
                format!("\"{other}\" is not a valid choice."),
            );
            None
        }
    };
    // Permission before the remaining validation: a user without it learns nothing more.
    if let Some(kind) = kind {
        principal
            .require(kind.permission())
            .map_err(|e| forbidden(&e))?;
    }
    let session_id = identifier(fields, "session_id", &mut errors);
    let order_no = identifier(fields, "order_no", &mut errors);
    if session_id.is_none()
        && order_no.is_none()
        && !errors.contains_key("session_id")
        && !errors.contains_key("order_no")
    {
        push_error(
            &mut errors,
            "non_field_errors",
            "Either session_id or order_no is required.",
        );
    }
    let amount = match fields.get("amount") {
        None => None,
        Some(Value::String(s)) => match WireAmount::parse(s) {
            Ok(amount) => Some(amount),
            Err(e) => {
                push_error(&mut errors, "amount", e.to_string());
                None
            }
        },
        Some(Value::Null) => {
            push_error(&mut errors, "amount", "This field may not be null.");
            None
        }
        Some(_) => {
            push_error(
                &mut errors,
                "amount",
                "Amounts must be sent as decimal strings, e.g. \"12.500\".",
            );
            None
        }
    };
    let destination = match fields.get("destination") {
        None => Destination::Pg,
        Some(Value::String(s)) => match Destination::parse(s) {
            Some(Destination::Wallet) if kind.is_some_and(|k| k != OperationKind::Refund) => {
                push_error(
                    &mut errors,
                    "destination",
                    "The wallet destination is only available for refund operations.",
                );
                Destination::Wallet
            }
            Some(d) => d,
            None => {
                push_error(
                    &mut errors,
                    "destination",
                    format!("\"{s}\" is not a valid choice."),
                );
                Destination::Pg
            }
        },
        Some(other) => {
            push_error(
                &mut errors,
                "destination",
                format!("\"{other}\" is not a valid choice."),
            );
            Destination::Pg
        }
    };
    let extra = match fields.get("extra") {
        None => None,
        Some(Value::Object(map)) => Some(Value::Object(map.clone())),
        Some(other) => {
            let kind = match other {
                Value::String(_) => "str",
                Value::Array(_) => "list",
                _ => "other",
            };
            push_error(
                &mut errors,
                "extra",
                format!("Expected a dictionary of items but got type \"{kind}\"."),
            );
            None
        }
    };
    match kind {
        Some(kind) if errors.is_empty() => Ok(OperationRequest {
            kind,
            selector: Selector {
                session_id,
                order_no,
            },
            amount,
            destination,
            extra,
            tracking_key,
            initiator: principal.user_name().map(str::to_owned),
        }),
        _ => Err(json_response(400, views::field_errors_body(&errors))),
    }
}

async fn operation(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let result: Result<Response<Body>, Response<Body>> = async {
        let principal = authenticate(shared, req.headers(), None)?;
        let key = tracking_key(req.headers());
        let (parts, body) = req.into_parts();
        let body = read_body(body).await?;
        let fields = parse_fields(&parts.headers, &body)?;
        let request = parse_operation(&fields, &principal, key?)?;
        let reply = stored(shared, move |db, ctx| {
            engine::perform_operation(db, ctx, &request)
        })
        .await?;
        let counters = &shared.counters;
        bump(match reply.kind {
            ReplyKind::Applied => &counters.operations_applied,
            ReplyKind::GatewayRefused => &counters.operations_gateway_refused,
            ReplyKind::Refused => &counters.operations_refused,
            ReplyKind::Replayed => &counters.operations_replayed,
            _ => &counters.operations_invalid,
        });
        Ok(reply_response(reply))
    }
    .await;
    if let Err(response) = &result
        && response.status() == StatusCode::BAD_REQUEST
    {
        bump(&shared.counters.operations_invalid);
    }
    flatten(result)
}

async fn inquiry(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    flatten(
        async {
            authenticate(shared, req.headers(), Some(Permission::PaymentInquiry))?;
            let (parts, body) = req.into_parts();
            let body = read_body(body).await?;
            let fields = parse_fields(&parts.headers, &body)?;
            let mut errors = FieldErrors::new();
            let selector = Selector {
                session_id: identifier(&fields, "session_id", &mut errors),
                order_no: identifier(&fields, "order_no", &mut errors),
            };
            if !errors.is_empty() {
                return Err(json_response(400, views::field_errors_body(&errors)));
            }
            let reply = stored(shared, move |db, ctx| engine::inquire(db, ctx, &selector)).await?;
            if reply.kind == ReplyKind::Throttled {
                bump(&shared.counters.inquiries_throttled);
            }
            Ok(reply_response(reply))
        }
        .await,
    )
}

async fn payment(
    shared: &Arc<Shared>,
    req: &Request<Incoming>,
    session_id: String,
) -> Response<Body> {
    flatten(
        async {
            authenticate(shared, req.headers(), None)?;
            let base_url = shared.base_url.clone();
            let reply = stored(shared, move |db, _| {
                engine::retrieve(db, &session_id, &base_url)
            })
            .await?;
            Ok(reply_response(reply))
        }
        .await,
    )
}

fn query_pairs(req: &Request<Incoming>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn report_list(shared: &Arc<Shared>, req: &Request<Incoming>) -> Response<Body> {
    flatten(
        async {
            authenticate(shared, req.headers(), Some(Permission::ReportView))?;
            let mut query = ListQuery::default();
            for (key, value) in query_pairs(req) {
                let slot = match key.as_str() {
                    "created_after" => &mut query.created_after,
                    "created_before" => &mut query.created_before,
                    "interval" => &mut query.interval,
                    "source" => &mut query.source,
                    "limit" => &mut query.limit,
                    "offset" => &mut query.offset,
                    _ => continue,
                };
                *slot = Some(value);
            }
            let (seed, base_url) = (shared.seed, shared.base_url.clone());
            let listed = stored(shared, move |db, ctx| {
                report::list(db, seed, ctx.env.now_ms, &base_url, &query)
            })
            .await?;
            Ok(match listed {
                Ok(body) => json_response(200, body),
                Err(errors) => json_response(400, views::field_errors_body(&errors)),
            })
        }
        .await,
    )
}

async fn report_download(
    shared: &Arc<Shared>,
    req: &Request<Incoming>,
    token: String,
) -> Response<Body> {
    flatten(
        async {
            authenticate(shared, req.headers(), Some(Permission::ReportView))?;
            let seed = shared.seed;
            let file = stored(shared, move |db, ctx| {
                report::download(db, seed, ctx.env.now_ms, &token)
            })
            .await?;
            let Some(file) = file else {
                return Ok(not_found());
            };
            let file_name = file.file_name;
            let mut response = respond(200, file.content_type, file.bytes);
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
            {
                response.headers_mut().insert(CONTENT_DISPOSITION, value);
            }
            Ok(response)
        }
        .await,
    )
}

/// The `Host` values (lowercase) that name this sandbox on loopback.
fn loopback_hosts(port: u16) -> Vec<String> {
    let mut hosts: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .map(|host| format!("{host}:{port}"))
        .collect();
    if port == 80 {
        // A browser leaves the default port out of `Host` and `Origin`.
        hosts.extend(["127.0.0.1", "localhost", "[::1]"].map(str::to_owned));
    }
    hosts
}

/// Compares without stopping at the first difference, so timing says nothing of the token.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Whether a `/_sandbox/` request may run (see the module comment): `Err` is the 403 or 415
/// that says what is missing.
fn admin_allowed(
    access: &AdminAccess,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), Response<Body>> {
    if let Some(token) = headers.get(ADMIN_TOKEN_HEADER) {
        return if same_secret(token.as_bytes(), access.token.as_bytes()) {
            Ok(())
        } else {
            Err(detail(
                403,
                &format!(
                    "The {ADMIN_TOKEN_HEADER} header does not match the admin token the \
                     sandbox printed at start (`admin token: ...`)."
                ),
            ))
        };
    }
    let port = access.port;
    let hosts = loopback_hosts(port);
    let text = |name| {
        headers
            .get(name)
            .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
    };
    let host = text(HOST);
    if !host.as_ref().is_some_and(|h| hosts.contains(h)) {
        return Err(detail(
            403,
            &format!(
                "The /_sandbox/ endpoints answer requests addressed to 127.0.0.1:{port}, \
                 localhost:{port} or [::1]:{port} (Host was {}), or with the {ADMIN_TOKEN_HEADER} \
                 header printed at start.",
                host.map_or_else(|| "missing".to_owned(), |h| format!("\"{h}\""))
            ),
        ));
    }
    if *method == Method::GET || *method == Method::HEAD {
        return Ok(());
    }
    if let Some(origin) = text(ORIGIN)
        && !hosts.iter().any(|h| origin == format!("http://{h}"))
    {
        return Err(detail(
            403,
            &format!(
                "The /_sandbox/ endpoints take changes only from the sandbox's own origin \
                 (http://127.0.0.1:{port}) or with the {ADMIN_TOKEN_HEADER} header; Origin was \
                 \"{origin}\"."
            ),
        ));
    }
    if let Some(content_type) = text(CONTENT_TYPE) {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media != "application/json" {
            return Err(detail(
                415,
                &format!(
                    "The /_sandbox/ endpoints take changes as Content-Type: application/json \
                     (or with the {ADMIN_TOKEN_HEADER} header), not \"{content_type}\"."
                ),
            ));
        }
    }
    Ok(())
}

/// `PUT /_sandbox/faults` takes a config object or a spec string.
#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsInput {
    Spec(String),
    Config(FaultConfig),
}

/// `POST /_sandbox/clock`: `{"advance_ms": N}` and/or `{"offset_ms": N}`, whole milliseconds;
/// the resulting offset must stay within [`MAX_CLOCK_OFFSET_MS`]. Nothing changes on a 400.
fn set_clock(shared: &Shared, body: &[u8]) -> Result<(), Response<Body>> {
    let fields: Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| bad_admin_json(&e))?;
    let mut errors = FieldErrors::new();
    let mut number = |field: &str| -> Option<i64> {
        let value = fields.get(field)?;
        let n = value.as_i64();
        if n.is_none() {
            push_error(
                &mut errors,
                field,
                format!(
                    "{value} is not a whole number of milliseconds within \
                     -{MAX_CLOCK_OFFSET_MS}..={MAX_CLOCK_OFFSET_MS} (10 years)."
                ),
            );
        }
        n
    };
    let offset = number("offset_ms");
    let advance = number("advance_ms");
    for field in fields.keys() {
        if field != "offset_ms" && field != "advance_ms" {
            push_error(
                &mut errors,
                field,
                "Unknown field: the clock takes advance_ms and offset_ms.",
            );
        }
    }
    if !errors.is_empty() {
        return Err(json_response(400, views::field_errors_body(&errors)));
    }
    let refused = |e: ClockError| {
        json_response(
            400,
            views::field_errors_body(&views::field_error(e.field, e.to_string())),
        )
    };
    match (offset, advance) {
        (Some(offset), Some(advance)) => {
            check_offset("offset_ms", offset).map_err(refused)?;
            let target = offset.saturating_add(advance);
            check_offset("advance_ms", target).map_err(|_| {
                refused(ClockError {
                    field: "advance_ms",
                    value: advance,
                    offset: target,
                })
            })?;
            shared.clock.set_offset_ms(target).map_err(refused)
        }
        (Some(offset), None) => shared.clock.set_offset_ms(offset).map_err(refused),
        (None, Some(advance)) => shared.clock.advance_ms(advance).map(drop).map_err(refused),
        (None, None) => Ok(()),
    }
}

fn clock_body(shared: &Shared) -> String {
    let now_ms = shared.clock.now_ms();
    json!({ "now": rfc3339(now_ms), "now_ms": now_ms, "offset_ms": shared.clock.offset_ms() })
        .to_string()
}

fn bad_admin_json(e: &serde_json::Error) -> Response<Body> {
    detail(400, &format!("Invalid JSON body: {e}"))
}

async fn admin(shared: Arc<Shared>, path: &str, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let allow = match path {
        "health" | "state" | "settlement" => "GET",
        "faults" => "GET, PUT",
        "clock" => "GET, POST",
        "payments" | "settle" | "users" => "POST",
        _ => return not_found(),
    };
    let body = match read_body(req.into_body()).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let result: Result<Response<Body>, Response<Body>> = async {
        match (&method, path) {
            (&Method::GET, "health") => {
                let now_ms = shared.clock.now_ms();
                Ok(json_response(
                    200,
                    json!({
                        "status": "ok",
                        "now": rfc3339(now_ms),
                        "now_ms": now_ms,
                        "base_url": shared.base_url,
                        "version": env!("CARGO_PKG_VERSION"),
                    })
                    .to_string(),
                ))
            }
            (&Method::GET, "state") => {
                let shared2 = shared.clone();
                let snapshot = tokio::task::spawn_blocking(move || shared2.snapshot())
                    .await
                    .map_err(|e| internal_error(&e))?
                    .map_err(|e| internal_error(&e))?;
                Ok(json_response(
                    200,
                    serde_json::to_string(&snapshot).unwrap_or_default(),
                ))
            }
            (&Method::GET, "settlement") => {
                let seed = shared.seed;
                let file = stored(&shared, move |db, _| crate::settlement::build(db, seed)).await?;
                let mut response = respond(200, "text/csv; charset=utf-8", file.bytes);
                if let Ok(value) =
                    HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.file_name))
                {
                    response.headers_mut().insert(CONTENT_DISPOSITION, value);
                }
                Ok(response)
            }
            (&Method::GET, "faults") => Ok(json_response(
                200,
                serde_json::to_string(shared.faults().config()).unwrap_or_default(),
            )),
            (&Method::PUT, "faults") => {
                let input: FaultsInput =
                    serde_json::from_slice(&body).map_err(|e| bad_admin_json(&e))?;
                let config = match input {
                    FaultsInput::Spec(spec) => FaultConfig::parse(&spec),
                    FaultsInput::Config(config) => config.validate().map(|()| config),
                }
                .map_err(|e| detail(400, &e.to_string()))?;
                let body = serde_json::to_string(&config).unwrap_or_default();
                shared.set_faults(config);
                Ok(json_response(200, body))
            }
            (&Method::GET, "clock") => Ok(json_response(200, clock_body(&shared))),
            (&Method::POST, "clock") => {
                set_clock(&shared, &body)?;
                Ok(json_response(200, clock_body(&shared)))
            }
            (&Method::POST, "settle") => {
                let settled = stored(&shared, |db, ctx| {
                    ctx.note_resettled();
                    db.settle_until(i64::MAX, ctx.env.now_ms)
                })
                .await?;
                Ok(json_response(
                    200,
                    json!({ "settled": settled }).to_string(),
                ))
            }
            (&Method::POST, "payments") => {
                let new: NewPayment =
                    serde_json::from_slice(&body).map_err(|e| bad_admin_json(&e))?;
                let shared2 = shared.clone();
                let added = tokio::task::spawn_blocking(move || shared2.add_payment(new))
                    .await
                    .map_err(|e| internal_error(&e))?;
                match added {
                    Ok(payment) => Ok(json_response(
                        201,
                        serde_json::to_string(&payment).unwrap_or_default(),
                    )),
                    Err(AdminError::Invalid(errors)) => {
                        Ok(json_response(400, views::field_errors_body(&errors)))
                    }
                    Err(AdminError::Conflict(message)) => Ok(detail(409, &message)),
                    Err(AdminError::Store(e)) => Err(internal_error(&e)),
                }
            }
            (&Method::POST, "users") => {
                let user: UserSpec =
                    serde_json::from_slice(&body).map_err(|e| bad_admin_json(&e))?;
                if user.name.is_empty() {
                    return Ok(detail(400, "A user needs a name."));
                }
                let answer =
                    json!({ "name": user.name, "permissions": user.permissions }).to_string();
                let shared2 = shared.clone();
                tokio::task::spawn_blocking(move || shared2.upsert_user(user))
                    .await
                    .map_err(|e| internal_error(&e))?
                    .map_err(|e| internal_error(&e))?;
                Ok(json_response(201, answer))
            }
            _ => Ok(method_not_allowed(&method, allow)),
        }
    }
    .await;
    flatten(result)
}
