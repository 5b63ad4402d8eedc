//! The one HTTP client for the Dataverse Web API: standard headers, bearer token from the
//! cache, retries that honour `Retry-After`, a single re-authentication on 401, OData error
//! bodies turned into typed errors, and paging by `@odata.nextLink`.

pub mod batch;
pub mod clock;
pub mod odata;
pub mod pacing;
mod retry;
mod service_error;

use crate::auth::TokenCache;
use crate::error::{Error, ErrorKind, Result};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

/// A body whose decoding frees enough small blocks to give them back to the system (a page
/// of 5,000 mailboxes is about 5 MB).
const LARGE_BODY: usize = 1 << 20;

pub struct WebApi {
    http: reqwest::Client,
    base: Url,
    tokens: TokenCache,
    max_retries: u32,
    /// The service's recommended degree of parallelism (`x-ms-dop-hint`, S-PAR), 0 = not seen yet.
    dop_hint: std::sync::atomic::AtomicUsize,
    /// The service's clock against ours, from every answer's `Date`.
    clock: clock::ServiceClock,
    pacer: pacing::Pacer,
    /// The last `WhoAmI` answer: who this connection's token signs in as does not change
    /// while the connection lives, and a run asks several times (readiness, profiles,
    /// defaults), each a request of the caller's budget.
    who: std::sync::Mutex<Option<Value>>,
    /// A batch is measuring this connection's cost per operation (one probe per connection:
    /// the runs that share it wait for its answer instead of each sending a probe).
    probing: std::sync::atomic::AtomicBool,
    /// Operations of the batches the engine's runs have handed to this connection and not yet
    /// had answered ([`WebApi::engage`]): what every run sharing the connection counts as its
    /// load, and (those not admitted by the pacer yet) as reserved budget.
    engaged: std::sync::atomic::AtomicUsize,
}

/// Held by a batch from the moment a run hands it to this connection until its answer.
pub struct Engaged(std::sync::Arc<WebApi>, usize);

impl Drop for Engaged {
    fn drop(&mut self) {
        self.0.engaged.fetch_sub(self.1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Held while a probe batch is out; lets the next run probe if this one never got an answer.
pub struct Probe(std::sync::Arc<WebApi>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.probing.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// One page of a collection and the link to the next one, exactly as the service gave it.
pub struct Page<T = Value> {
    pub rows: Vec<T>,
    pub next_link: Option<Url>,
}

/// A collection response as it arrives: rows are read straight into their type.
#[derive(serde::Deserialize)]
struct WirePage<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// A successful response: the parts callers look at.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A request body with its content type.
struct Payload {
    content_type: String,
    bytes: Vec<u8>,
}

/// A successful response before its body is interpreted.
struct RawReply {
    status: StatusCode,
    headers: HeaderMap,
    bytes: bytes::Bytes,
}

/// What a connection needs besides its HTTP client and tokens.
pub struct Settings<'a> {
    /// The Web API root, e.g. `https://contoso.crm.dynamics.com/api/data/v9.2/`.
    pub base: Url,
    pub max_retries: u32,
    pub limits: &'a pacing::Limits,
}

impl WebApi {
    pub fn new(http: reqwest::Client, tokens: TokenCache, settings: Settings<'_>) -> Self {
        WebApi {
            http,
            base: settings.base,
            tokens,
            max_retries: settings.max_retries,
            dop_hint: Default::default(),
            clock: Default::default(),
            pacer: pacing::Pacer::new(settings.limits),
            who: std::sync::Mutex::new(None),
            probing: std::sync::atomic::AtomicBool::new(false),
            engaged: Default::default(),
        }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The token cache: Connect-time sign-in (`crmsync_client_authenticate_start`) goes through it.
    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// An operation inside a `$batch` was throttled: hold this connection for `retry_after`.
    pub fn note_throttled(&self, retry_after: std::time::Duration) {
        self.pacer.throttled(retry_after);
    }

    /// The service's clock, as this connection's answers showed it.
    pub fn service_clock(&self) -> &clock::ServiceClock {
        &self.clock
    }

    /// The last `x-ms-dop-hint` the service sent, if any.
    pub fn dop_hint(&self) -> Option<usize> {
        Some(self.dop_hint.load(std::sync::atomic::Ordering::Relaxed)).filter(|n| *n > 0)
    }

    /// `WhoAmI` (UserId, BusinessUnitId, OrganizationId): asked of the service when `fresh`
    /// or not asked yet on this connection, otherwise the answer seen last.
    pub async fn who_am_i(&self, fresh: bool) -> Result<Value> {
        let known = self.who.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(who) = known.filter(|_| !fresh) {
            return Ok(who);
        }
        let who = self.get("WhoAmI", &[]).await?;
        *self.who.lock().unwrap_or_else(|p| p.into_inner()) = Some(who.clone());
        Ok(who)
    }

    /// GET a path relative to the API base (e.g. `WhoAmI`, `mailboxes?$select=…`).
    pub async fn get(&self, path: &str, prefer: &[&str]) -> Result<Value> {
        let url = self.resolve(path)?;
        Ok(self.send(Method::GET, url, None, prefer, None).await?.body)
    }

    /// GET one page of a collection; pass the returned `next_link` to get the next page.
    /// Rows are deserialized straight from the body into `T`: a 5,000-row page read as
    /// generic JSON values first would cost several times the memory of the typed rows.
    pub async fn get_page<T: serde::de::DeserializeOwned>(&self, url: Url, prefer: &[&str]) -> Result<Page<T>> {
        let raw = self.send_raw(Method::GET, url, None, prefer, None, 1).await?;
        let page: WirePage<T> = serde_json::from_slice(&raw.bytes)
            .map_err(|e| Error::new(ErrorKind::Service, format!("The service answered a collection query with an unexpected body: {e}")))?;
        // A page of thousands of rows is megabytes of body, freed now that its rows are
        // decoded. The body itself goes back to the system (the library's allocator maps such
        // blocks on their own); what the decoding freed in small blocks is given back here, or
        // it stays in this thread's arena (see `runtime::release_freed_memory`): measured on a
        // 50,000-mailbox setup through the module, peaks of 275-302 MB without this, 285-287
        // MB with it.
        let large = raw.bytes.len() >= LARGE_BODY;
        drop(raw);
        if large {
            crate::runtime::release_freed_memory();
        }
        let next_link = match page.next_link.as_deref() {
            Some(link) => Some(self.same_origin(link)?),
            None => None,
        };
        Ok(Page { rows: page.value, next_link })
    }

    /// Every row of a collection at `path`, following the service's next links page by page.
    pub async fn get_all<T: serde::de::DeserializeOwned>(&self, path: &str, prefer: &[&str]) -> Result<Vec<T>> {
        let mut rows = Vec::new();
        let mut next = Some(self.resolve(path)?);
        while let Some(url) = next {
            let page = self.get_page::<T>(url, prefer).await?;
            rows.extend(page.rows);
            next = page.next_link;
        }
        Ok(rows)
    }

    /// PATCH a row. Every PATCH this product sends sets absolute values, so repeating it
    /// after a lost response is safe; that is what makes the retries here correct.
    pub async fn patch(&self, path: &str, body: &Value, if_match: Option<&str>) -> Result<Reply> {
        let url = self.resolve(path)?;
        self.send(Method::PATCH, url, Some(body), &[], if_match).await
    }

    /// PATCH a row and get it back as written (`Prefer: return=representation`; `path` may
    /// carry `$select`), which saves the read that verifies a write. `None` when the service
    /// answered without the row (a 204: it did not apply the preference).
    pub async fn patch_returning(&self, path: &str, body: &Value, if_match: Option<&str>, prefer: &[&str]) -> Result<Option<Value>> {
        let url = self.resolve(path)?;
        let prefer: Vec<&str> = std::iter::once("return=representation").chain(prefer.iter().copied()).collect();
        let reply = self.send(Method::PATCH, url, Some(body), &prefer, if_match).await?;
        Ok(reply.body.is_object().then_some(reply.body))
    }

    /// Resolves a relative path against the API base.
    pub fn resolve(&self, path: &str) -> Result<Url> {
        self.base.join(path).map_err(|e| Error::internal(format!("bad request path '{path}': {e}")))
    }

    /// A next link is followed only on the organization's own origin, so a tampered or
    /// misrouted response can never make us send the bearer token elsewhere.
    fn same_origin(&self, link: &str) -> Result<Url> {
        let url = Url::parse(link)
            .or_else(|_| self.base.join(link))
            .map_err(|_| Error::new(ErrorKind::Service, "The service returned an unusable @odata.nextLink."))?;
        if url.origin() != self.base.origin() {
            return Err(Error::new(
                ErrorKind::Service,
                format!("The service returned a next link to another host ({}); refusing to follow it.", url.host_str().unwrap_or("?")),
            ));
        }
        Ok(url)
    }

    /// Sends independent writes in one `$batch` with `continue-on-error`, so one failing
    /// operation fails only its own item. Answers come back in the order of `operations`.
    /// A refusal for the batch's size (see [`batch::size_limit`]) is remembered: later batches
    /// of this connection stay inside what the service accepts ([`WebApi::batch_cap`]).
    pub async fn batch(&self, operations: &[batch::BatchOperation]) -> Result<Vec<batch::BatchAnswer>> {
        if operations.len() > batch::MAX_OPERATIONS {
            return Err(Error::internal(format!(
                "a batch of {} operations exceeds the service limit of {}",
                operations.len(),
                batch::MAX_OPERATIONS
            )));
        }
        let boundary = format!("batch_{}", uuid::Uuid::new_v4());
        let payload = Payload {
            content_type: format!("multipart/mixed; boundary={boundary}"),
            bytes: batch::encode(&self.base, &boundary, operations).into_bytes(),
        };
        let url = self.resolve("$batch")?;
        let reply = match self.send_raw(Method::POST, url, Some(&payload), &["odata.continue-on-error"], None, operations.len()).await {
            Ok(reply) => reply,
            Err(error) => {
                if let Some(limit) = batch::size_limit(&error) {
                    self.pacer.batch_refused(operations.len(), limit);
                }
                return Err(error);
            }
        };
        self.pacer.batch_accepted(operations.len());
        let content_type = reply.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let answers = batch::decode(&content_type, &String::from_utf8_lossy(&reply.bytes))?;
        // As for a large page: the request and answer bodies go back to the system now.
        let large = reply.bytes.len() + payload.bytes.len() >= LARGE_BODY;
        drop((reply, payload));
        if large {
            crate::runtime::release_freed_memory();
        }
        if answers.len() != operations.len() {
            return Err(Error::new(
                ErrorKind::Service,
                format!(
                    "The $batch response has {} answers for {} operations; the missing ones are treated as not done.",
                    answers.len(),
                    operations.len()
                ),
            ));
        }
        Ok(answers)
    }

    /// The most operations a `$batch` may hold on this connection (the service's limit, or
    /// less after it refused a batch for its size).
    pub fn batch_cap(&self) -> usize {
        self.pacer.size_cap().unwrap_or(batch::MAX_OPERATIONS).min(batch::MAX_OPERATIONS)
    }

    /// The batch sizes that use this connection's budgets best, given the execution time per
    /// operation learned so far; `None` until a batch has been measured.
    pub fn batch_advice(&self) -> Option<pacing::BatchAdvice> {
        self.pacer.batch_advice(self.batch_cap())
    }

    /// Requests this connection's window holds beyond the half kept for reads and other
    /// writes (see [`pacing::Pacer::spare_requests`]).
    pub fn spare_requests(&self) -> usize {
        self.pacer.spare_requests()
    }

    /// How long a batch of `operations` would wait for this connection's budgets before
    /// leaving (zero: at once), counting the batches already handed to it that the pacer has
    /// not admitted yet (another run's, say: at dispatch, not only at admission, the budget
    /// they will take is spoken for); nothing is admitted or reserved.
    pub fn send_wait(&self, operations: usize) -> std::time::Duration {
        let handed = self.engaged().saturating_sub(self.pacer.in_flight_operations());
        self.pacer.wait_for_besides(operations, handed)
    }

    /// Counts a batch of `operations` as handed to this connection until the guard drops.
    pub fn engage(self: &std::sync::Arc<Self>, operations: usize) -> Engaged {
        self.engaged.fetch_add(operations, std::sync::atomic::Ordering::SeqCst);
        Engaged(self.clone(), operations)
    }

    /// Operations handed to this connection by bulk runs and not yet answered.
    pub fn engaged(&self) -> usize {
        self.engaged.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts this connection's pacer from what `other` (same organization, another identity)
    /// has learned, when this one has measured nothing yet ([`pacing::Pacer::learn_from`]).
    pub fn learn_from(&self, other: &WebApi) {
        self.pacer.learn_from(&other.pacer);
    }

    /// Whether a run may send the probe batch now: the cost is not known yet and no other
    /// probe is out on this connection.
    pub fn may_probe(&self) -> bool {
        self.batch_advice().is_none() && !self.probing.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Claims the connection's probe (`None` when another is out) until the guard drops.
    pub fn try_probe(self: &std::sync::Arc<Self>) -> Option<Probe> {
        use std::sync::atomic::Ordering::SeqCst;
        self.probing.compare_exchange(false, true, SeqCst, SeqCst).ok().map(|_| Probe(self.clone()))
    }

    /// The largest `$batch` the service has accepted on this connection (0 before any).
    pub fn largest_batch(&self) -> usize {
        self.pacer.largest_accepted()
    }

    /// Keeps every request's span from now on ([`WebApi::timeline`]).
    pub fn record_timeline(&self) {
        self.pacer.record_timeline();
    }

    /// The spans of the requests since [`WebApi::record_timeline`].
    pub fn timeline(&self) -> Vec<pacing::Span> {
        self.pacer.timeline()
    }

    /// The service's execution time per operation, as learned from the batches so far.
    pub fn cost_per_operation(&self) -> Option<std::time::Duration> {
        self.pacer.cost_per_op()
    }

    async fn send(&self, method: Method, url: Url, body: Option<&Value>, prefer: &[&str], if_match: Option<&str>) -> Result<Reply> {
        let payload = body.map(|b| Payload { content_type: "application/json".into(), bytes: b.to_string().into_bytes() });
        let raw = self.send_raw(method, url, payload.as_ref(), prefer, if_match, 1).await?;
        let body = if raw.bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw.bytes)
                .map_err(|e| Error::new(ErrorKind::Service, format!("The service answered with a body that is not JSON: {e}")))?
        };
        Ok(Reply { status: raw.status, headers: raw.headers, body })
    }

    async fn send_raw(
        &self,
        method: Method,
        url: Url,
        body: Option<&Payload>,
        prefer: &[&str],
        if_match: Option<&str>,
        operations: usize,
    ) -> Result<RawReply> {
        let mut attempt = 0u32;
        // A token can expire between being issued and being used (short lifetimes, clock
        // skew): renew up to this many times per request, each with a new token.
        const MAX_RENEWALS: u32 = 3;
        let mut renewals = 0u32;
        let mut server_errors = 0u32;
        loop {
            let token = self.tokens.get().await?;
            let mut request =
                self.http.request(method.clone(), url.clone()).headers(standard_headers(&method)).bearer_auth(token.secret.expose_secret());
            if !prefer.is_empty() {
                request = request.header("Prefer", prefer.join(","));
            }
            if let Some(tag) = if_match {
                request = request.header("If-Match", tag);
            }
            if let Some(payload) = body {
                request = request.header(CONTENT_TYPE, payload.content_type.as_str()).body(payload.bytes.clone());
            }
            let slot = self.pacer.admit(operations).await;
            let started = std::time::Instant::now();
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) if retry::is_transient(&e) && attempt < self.max_retries => {
                    drop(slot);
                    tokio::time::sleep(retry::backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(service_error::transport(&url, &e)),
            };
            let status = response.status();
            self.clock.observe(response.headers(), chrono::Utc::now());
            if let Some(hint) = response.headers().get("x-ms-dop-hint").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()) {
                self.dop_hint.store(hint, std::sync::atomic::Ordering::Relaxed);
            }
            if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
                return Err(service_error::proxy_authentication_required());
            }
            if status == StatusCode::UNAUTHORIZED {
                let challenge = service_error::challenge_description(response.headers());
                if renewals < MAX_RENEWALS && self.tokens.invalidate(&token).await {
                    renewals += 1;
                    continue;
                }
                return Err(service_error::unauthorized(challenge, renewals > 0));
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                // Holds every request of this connection, not just this one, until it elapses.
                self.pacer.throttled(retry::delay(response.headers(), attempt));
            }
            if retry::may_retry(status, server_errors) && attempt < self.max_retries {
                server_errors += u32::from(status == StatusCode::INTERNAL_SERVER_ERROR);
                drop(slot);
                if status != StatusCode::TOO_MANY_REQUESTS {
                    tokio::time::sleep(retry::delay(response.headers(), attempt)).await;
                }
                attempt += 1;
                continue;
            }
            let headers = response.headers().clone();
            let bytes = read_body(response).await.map_err(|e| service_error::transport(&url, &e))?;
            if status == StatusCode::TOO_MANY_REQUESTS {
                drop(slot);
            } else {
                self.pacer.finished(slot, started.elapsed(), operations, pacing::Hints::from_headers(&headers));
            }
            if !status.is_success() {
                return Err(service_error::from_response(status, &headers, &bytes));
            }
            return Ok(RawReply { status, headers, bytes });
        }
    }
}

/// The whole body, copied chunk by chunk into one buffer sized by its Content-Length.
/// `Response::bytes` keeps every chunk (each a slice of the connection's read buffer) until
/// the last one arrived and then copies them: a 5,000-row page (about 5 MB) was held twice,
/// and the read buffers of the pages read at the same time made up a quarter of a
/// 50,000-mailbox setup's peak. Here each chunk goes as soon as it is copied, so the read
/// buffer is reused.
async fn read_body(mut response: reqwest::Response) -> reqwest::Result<bytes::Bytes> {
    // A declared length is only a hint for the first allocation (capped: it is the server's word).
    let declared = response.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(0).min(64 << 20));
    let mut body = Vec::with_capacity(declared);
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(body))
}

fn standard_headers(method: &Method) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert("OData-MaxVersion", HeaderValue::from_static("4.0"));
    headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    if method == Method::GET {
        // Dataverse may otherwise answer from a cache (S-COMPOSE).
        headers.insert("If-None-Match", HeaderValue::from_static("null"));
    }
    headers
}
