//! The HTTP side: one `reqwest::Client` reused for every request (and shared across
//! profiles with [`OttuClient::for_profile`]), the endpoints, reads bounded in size and
//! time, and transport failures turned into [`TransportError`]. It never follows a
//! redirect with credentials: the `Authorization` header goes only to the profile's own
//! base URL. Everything an answer brings back (body, headers) and every transport error
//! passes through the client's [`Scrubber`] before anyone reads it, so a server that echoes
//! the credential cannot get it into the ledger or the output.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, RequestBuilder, Url};
use serde_json::Value;
use thiserror::Error;

use super::auth::{Credential, OttuCall, Scrubber};
use super::classify::{
    FetchError, OperationOutcome, RawResponse, TransportError, check_fetch, operation_outcome,
    parse_fetched,
};
use super::wire::{
    InquiryReply, OperationRequest, PaymentDetails, PaymentRef, ReportPage, ReportQuery,
    RequestError, check_retrievable, inquiry_json,
};
use crate::limits::{
    OTTU_CONNECT_TIMEOUT_MS, OTTU_MAX_REPORT_BYTES, OTTU_MAX_REPORT_REDIRECTS,
    OTTU_MAX_RESPONSE_BYTES, OTTU_REPORT_DOWNLOAD_TIMEOUT_MS, OTTU_REQUEST_TIMEOUT_MS,
};
use crate::model::{SessionId, TrackingKey};

/// The header Ottu stores with an operation and replays the original outcome for; Ottu
/// documents it as `Tracking-Key` (header names are case-insensitive).
pub const TRACKING_KEY_HEADER: &str = "tracking-key";

/// Why a client could not be made. Never holds a secret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ClientError {
    #[error("base URL '{url}' {problem}")]
    BaseUrl { url: String, problem: &'static str },
    #[error("the {what} {problem}")]
    BadCredential {
        what: &'static str,
        problem: &'static str,
    },
    #[error("cannot set up the HTTPS client: {reason}")]
    Http { reason: String },
}

/// Timeouts of one client; [`Default`] takes them from [`crate::limits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    pub connect_timeout: Duration,
    /// From connect to the last byte of a JSON answer.
    pub request_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_millis(OTTU_CONNECT_TIMEOUT_MS),
            request_timeout: Duration::from_millis(OTTU_REQUEST_TIMEOUT_MS),
        }
    }
}

/// How much of an answer is read, and for how long.
#[derive(Clone, Copy, Debug)]
struct Budget {
    limit_bytes: usize,
    timeout: Duration,
}

const REPORT_BUDGET: Budget = Budget {
    limit_bytes: OTTU_MAX_REPORT_BYTES,
    timeout: Duration::from_millis(OTTU_REPORT_DOWNLOAD_TIMEOUT_MS),
};

/// A client for one profile (base URL + credential).
#[derive(Clone)]
pub struct OttuClient {
    http: reqwest::Client,
    config: ClientConfig,
    base: Url,
    authorization: HeaderValue,
    auth_kind: &'static str,
    /// Takes this client's credential out of every answer and error text.
    scrubber: Scrubber,
}

/// Shows where and how it signs in, never with what.
impl fmt::Debug for OttuClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OttuClient")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth_kind)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OttuClient {
    pub fn new(
        base_url: &str,
        credential: &Credential,
        config: ClientConfig,
    ) -> Result<OttuClient, ClientError> {
        let http = reqwest::Client::builder()
            // The total timeout is set per request (see `receive`): reports get longer.
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("daftar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ClientError::Http {
                reason: err.to_string(),
            })?;
        OttuClient::with_http(http, config, base_url, credential)
    }

    /// A client for another profile that shares this one's connection pool and timeouts.
    pub fn for_profile(
        &self,
        base_url: &str,
        credential: &Credential,
    ) -> Result<OttuClient, ClientError> {
        OttuClient::with_http(self.http.clone(), self.config, base_url, credential)
    }

    fn with_http(
        http: reqwest::Client,
        config: ClientConfig,
        base_url: &str,
        credential: &Credential,
    ) -> Result<OttuClient, ClientError> {
        Ok(OttuClient {
            http,
            config,
            base: parse_base_url(base_url)?,
            authorization: credential.authorization()?,
            auth_kind: credential.kind_word(),
            scrubber: Scrubber::new(credential),
        })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// Where this client sends its credential: `scheme://host:port` (see [`origin_of`]).
    pub fn origin(&self) -> String {
        origin(&self.base)
    }

    /// Sends one operation attempt and classifies the answer. Every attempt of one
    /// operation must carry the same `key`.
    pub async fn send_operation(
        &self,
        key: TrackingKey,
        request: &OperationRequest,
    ) -> OperationOutcome {
        operation_outcome(request.kind(), self.send_operation_raw(key, request).await)
    }

    /// Sends one operation attempt and returns the answer unclassified.
    pub async fn send_operation_raw(
        &self,
        key: TrackingKey,
        request: &OperationRequest,
    ) -> Result<RawResponse, TransportError> {
        self.post_operation_json_raw(key, &request.to_json()).await
    }

    /// Sends any JSON body to the operation endpoint, exactly as given, with the same
    /// headers as [`OttuClient::send_operation_raw`]. For the contract test's deliberately
    /// bad requests and for support; the ledger sends [`OperationRequest`]s.
    pub async fn post_operation_json_raw(
        &self,
        key: TrackingKey,
        body: &Value,
    ) -> Result<RawResponse, TransportError> {
        // A hyphenated UUID is plain ASCII: always a valid header value.
        let key = HeaderValue::from_str(&key.to_string()).expect("a UUID is a header value");
        let request = self
            .json_request(
                Method::POST,
                self.endpoint(&["b", "pbl", "v2", "operation"]),
            )
            .header(HeaderName::from_static(TRACKING_KEY_HEADER), key)
            .json(body);
        self.receive(request, self.json_budget()).await
    }

    /// `GET /b/checkout/v1/pymt-txn/{session_id}/`.
    pub async fn retrieve_payment(
        &self,
        session_id: &SessionId,
    ) -> Result<PaymentDetails, FetchError> {
        let raw = self.retrieve_payment_raw(session_id).await?;
        check_fetch(OttuCall::Retrieve, &raw)?;
        parse_fetched(&raw)
    }

    pub async fn retrieve_payment_raw(
        &self,
        session_id: &SessionId,
    ) -> Result<RawResponse, FetchError> {
        check_retrievable(session_id)?;
        let url = self.endpoint(&["b", "checkout", "v1", "pymt-txn", session_id.as_str()]);
        let request = self.json_request(Method::GET, url);
        Ok(self.receive(request, self.json_budget()).await?)
    }

    /// `POST /b/pbl/v2/inquiry/`: asks the gateway for the payment's latest status. Ottu
    /// throttles it hard (CONTRACT.md): call it only when the merchant asks.
    pub async fn inquire(&self, payment: &PaymentRef) -> Result<InquiryReply, FetchError> {
        let raw = self.inquire_raw(payment).await?;
        check_fetch(OttuCall::Inquiry, &raw)?;
        parse_fetched(&raw)
    }

    pub async fn inquire_raw(&self, payment: &PaymentRef) -> Result<RawResponse, TransportError> {
        let request = self
            .json_request(Method::POST, self.endpoint(&["b", "pbl", "v2", "inquiry"]))
            .json(&inquiry_json(payment));
        self.receive(request, self.json_budget()).await
    }

    /// `GET /b/api/v1/reports/files/`: one page of generated reports, newest first.
    pub async fn list_reports(&self, query: &ReportQuery) -> Result<ReportPage, FetchError> {
        let raw = self.list_reports_raw(query).await?;
        check_fetch(OttuCall::ReportList, &raw)?;
        parse_fetched(&raw)
    }

    pub async fn list_reports_raw(
        &self,
        query: &ReportQuery,
    ) -> Result<RawResponse, TransportError> {
        let mut url = self.endpoint(&["b", "api", "v1", "reports", "files"]);
        url.query_pairs_mut().extend_pairs(query.pairs());
        let request = self.json_request(Method::GET, url);
        self.receive(request, self.json_budget()).await
    }

    /// `GET /b/api/v1/reports/files/{token}/download/`: the file's bytes (CSV or XLSX).
    /// Ottu may redirect to a pre-signed storage URL, which is fetched without credentials.
    pub async fn download_report(&self, token: &str) -> Result<Vec<u8>, FetchError> {
        let mut raw = self.download_report_raw(token).await?;
        let mut hops = 0;
        while let Some(next) = redirect_target(&raw) {
            if hops == OTTU_MAX_REPORT_REDIRECTS {
                return Err(FetchError::Refused {
                    status: raw.status,
                    reason: format!(
                        "the report download redirected more than {OTTU_MAX_REPORT_REDIRECTS} times: try again later"
                    ),
                    raw: raw.kept_body(),
                });
            }
            hops += 1;
            raw = self.receive(self.http.get(next), REPORT_BUDGET).await?;
        }
        if hops == 0 {
            check_fetch(OttuCall::ReportDownload, &raw)?;
        } else {
            check_storage_answer(&raw)?;
        }
        Ok(raw.body)
    }

    /// The first hop of a download, to Ottu, unclassified.
    pub async fn download_report_raw(&self, token: &str) -> Result<RawResponse, FetchError> {
        if token.is_empty() {
            return Err(RequestError::EmptyReportToken.into());
        }
        let url = self.endpoint(&["b", "api", "v1", "reports", "files", token, "download"]);
        // No `Accept`: the answer is a CSV or XLSX file.
        let request = self.authorized(self.http.get(url));
        Ok(self.receive(request, REPORT_BUDGET).await?)
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        request.header(AUTHORIZATION, self.authorization.clone())
    }

    /// A signed request to Ottu that expects JSON back.
    fn json_request(&self, method: Method, url: Url) -> RequestBuilder {
        self.authorized(self.http.request(method, url))
            .header(ACCEPT, "application/json")
    }

    /// `base` + `/seg/seg/.../` (Ottu's paths end with a slash); segments are percent-encoded.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            // parse_base_url accepted only http(s) URLs with a host: they have a path.
            let mut path = url
                .path_segments_mut()
                .expect("an http(s) base URL has path segments");
            path.pop_if_empty().extend(segments).push("");
        }
        url
    }

    fn json_budget(&self) -> Budget {
        Budget {
            limit_bytes: OTTU_MAX_RESPONSE_BYTES,
            timeout: self.config.request_timeout,
        }
    }

    /// Sends and reads the whole answer within `budget`.
    async fn receive(
        &self,
        request: RequestBuilder,
        budget: Budget,
    ) -> Result<RawResponse, TransportError> {
        let failed = |err: reqwest::Error| transport_error(&err, budget.timeout, &self.scrubber);
        let mut response = request
            .timeout(budget.timeout)
            .send()
            .await
            .map_err(failed)?;
        let received_at = SystemTime::now();
        let too_large = TransportError::TooLarge {
            limit_bytes: budget.limit_bytes,
        };
        if response
            .content_length()
            .is_some_and(|len| len > budget.limit_bytes as u64)
        {
            return Err(too_large);
        }
        let status = response.status().as_u16();
        let mut headers = response.headers().clone();
        self.scrubber.headers(&mut headers);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > budget.limit_bytes {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body: self.scrubber.body(body),
            received_at,
        })
    }
}

fn transport_error(err: &reqwest::Error, timeout: Duration, scrubber: &Scrubber) -> TransportError {
    let reason = scrubber.text(describe(err));
    if err.is_connect() {
        TransportError::Unreachable { reason }
    } else if err.is_timeout() {
        TransportError::TimedOut {
            reason: format!(
                "no complete answer within {} s ({reason})",
                timeout.as_secs_f32()
            ),
        }
    } else {
        TransportError::Interrupted { reason }
    }
}

/// The URL and the chain of causes, e.g. `http://127.0.0.1:9/b/...: tcp connect error:
/// Connection refused (os error 111)`. Holds no secret: credentials never go in URLs.
fn describe(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(url) = err.url() {
        parts.push(url.as_str().to_string());
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.len() <= 1 {
        parts.push(err.to_string());
    }
    parts.join(": ")
}

/// `https://host[:port][/path]`, or `http://` on a loopback address (the sandbox): a
/// credential must never travel in clear text to another machine.
/// The same parser `profile add` stores URLs with ([`super::parse_base_url`]), so a
/// stored base URL is never one the client refuses.
fn parse_base_url(text: &str) -> Result<Url, ClientError> {
    super::parse_base_url(text).map_err(|error| ClientError::BaseUrl {
        url: error.url,
        problem: error.problem,
    })
}

/// The origin a credential is bound to: `scheme://host:port` of a base URL the client
/// accepts, the host lowercased and the port always written (`https://x.ottu.net:443`), so
/// two spellings of one server agree and any other server differs.
pub fn origin_of(base_url: &str) -> Result<String, ClientError> {
    parse_base_url(base_url).map(|url| origin(&url))
}

fn origin(url: &Url) -> String {
    // parse_base_url accepted only http(s) URLs with a host: both have a known default port.
    let port = url.port_or_known_default().unwrap_or(0);
    format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or(""))
}

/// Where a redirect answer points, resolved against the URL it came from.
fn redirect_target(raw: &RawResponse) -> Option<Url> {
    if !matches!(raw.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = raw.headers.get(LOCATION)?.to_str().ok()?;
    Url::parse(location).ok()
}

/// Checks an answer from report storage (after a redirect): not Ottu, so no Ottu wording.
fn check_storage_answer(raw: &RawResponse) -> Result<(), FetchError> {
    match raw.status {
        200..=299 => Ok(()),
        status @ 500..=599 => Err(FetchError::Unavailable {
            reason: format!("the report storage had an error (HTTP {status})"),
        }),
        status => Err(FetchError::Refused {
            status,
            reason: format!(
                "the report storage refused the download (HTTP {status}): list the reports again for a fresh link"
            ),
            raw: raw.kept_body(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn key() -> Credential {
        Credential::ApiKey(SecretString::from("sk_live_123"))
    }

    fn client(base: &str) -> OttuClient {
        OttuClient::new(base, &key(), ClientConfig::default()).unwrap()
    }

    #[test]
    fn endpoints_keep_the_base_path_and_end_with_a_slash() {
        let plain = client("https://pay.example.com");
        assert_eq!(
            plain.endpoint(&["b", "pbl", "v2", "operation"]).as_str(),
            "https://pay.example.com/b/pbl/v2/operation/"
        );
        let nested = client("https://example.com/ottu/");
        assert_eq!(
            nested
                .endpoint(&["b", "api", "v1", "reports", "files", "a/b c", "download"])
                .as_str(),
            "https://example.com/ottu/b/api/v1/reports/files/a%2Fb%20c/download/"
        );
        let local = client("http://127.0.0.1:4010");
        assert_eq!(
            local.endpoint(&["b", "pbl", "v2", "inquiry"]).as_str(),
            "http://127.0.0.1:4010/b/pbl/v2/inquiry/"
        );
    }

    #[test]
    fn base_urls_must_not_leak_the_credential() {
        for (url, problem) in [
            ("http://pay.example.com", "plain http"),
            ("ftp://pay.example.com", "https://"),
            ("https://u:p@pay.example.com", "user or password"),
            ("https://pay.example.com/?x=1", "query"),
            ("pay.example.com", "not a URL"),
        ] {
            let err = OttuClient::new(url, &key(), ClientConfig::default()).unwrap_err();
            assert!(err.to_string().contains(problem), "{url}: {err}");
        }
        for url in [
            "http://localhost:8000",
            "http://[::1]:1",
            "http://127.0.0.2",
        ] {
            assert!(
                OttuClient::new(url, &key(), ClientConfig::default()).is_ok(),
                "{url}"
            );
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let shown = format!("{:?}", client("https://pay.example.com"));
        assert!(!shown.contains("sk_live_123"), "{shown}");
        assert!(shown.contains("api_key"), "{shown}");
    }
}
