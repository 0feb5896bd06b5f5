//! The request pipeline every call goes through, whatever the backend: parameters encoded
//! as PVE wants them ([`encode`]), optional validation against the schema, the call, and
//! one DEBUG line per request on the backend's logger.

pub mod encode;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::api::{Answer, ApiError, Call, Error, Method};
use crate::backend::options::ClientOptions;
use crate::backend::{Backend, BackendKind};
use crate::schema::ApiSchema;

pub use encode::encode_params;

/// One SDK connection: a backend plus the request pipeline every call goes through.
#[derive(Debug, Clone)]
pub struct Client {
    backend: Backend,
    /// The schema used to encode lists (`-list` formats joined with commas) and, with
    /// `validate`, to check requests before they are sent.
    schema: Arc<ApiSchema>,
    validate: bool,
    /// A total timeout for every call from now on, shared by the clones (microseconds;
    /// `NO_OVERRIDE` when the backend's own applies).
    call_timeout: Arc<AtomicU64>,
    /// What the embedding layer attaches (the Python edge: its tracer), shared by clones.
    hook: HookSlot,
    /// Where each request line goes besides the log (the CLI's `--verbose`: stderr).
    trace: TraceSlot,
}

#[derive(Clone, Default)]
struct TraceSlot(Option<Trace>);

impl std::fmt::Debug for TraceSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "TraceSlot(set)"
        } else {
            "TraceSlot(none)"
        })
    }
}

/// A receiver of one line per request (method, path, outcome, time; never a value).
pub type Trace = Arc<dyn Fn(&str) + Send + Sync>;

/// Where the hook lives (shared by clones).
#[derive(Clone, Default)]
struct HookSlot(Arc<parking_lot::RwLock<Option<Hook>>>);

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.read().is_some() {
            "HookSlot(set)"
        } else {
            "HookSlot(none)"
        })
    }
}

/// An opaque object the layer embedding the client attaches to it (the Python edge keeps
/// its OpenTelemetry tracer there); the core never looks inside.
pub type Hook = Arc<dyn std::any::Any + Send + Sync>;

const NO_OVERRIDE: u64 = u64::MAX;

impl Client {
    /// A client over `backend`, encoding with `schema`.
    pub fn new(backend: Backend, schema: Arc<ApiSchema>) -> Client {
        Client {
            backend,
            schema,
            validate: false,
            call_timeout: Arc::new(AtomicU64::new(NO_OVERRIDE)),
            hook: HookSlot::default(),
            trace: TraceSlot::default(),
        }
    }

    /// This client (and its later clones) also hands each request line to `trace`.
    #[must_use]
    pub fn with_trace(mut self, trace: Trace) -> Client {
        self.trace = TraceSlot(Some(trace));
        self
    }

    /// A client over the in-process `mock` (which validates every request itself).
    pub fn over_mock(mock: crate::mock::MockPve) -> Client {
        let schema = mock.schema().clone();
        Client::new(Backend::Mock(mock), schema)
    }

    /// The client the options describe; errors name the option at fault.
    pub fn connect(options: &ClientOptions) -> Result<Client, String> {
        let backend = options.backend()?;
        let schema = match backend.mock() {
            Some(m) => m.schema().clone(),
            None => crate::schema::bundled::load_of(
                options.service()?.product,
                options.schema_version(),
            )
            .map_err(|e| format!("schema_version: {e}"))?,
        };
        let mut client = Client::new(backend, schema);
        // The mock validates every request itself.
        client.validate = options.validate() && client.backend.mock().is_none();
        Ok(client)
    }

    /// Sets (or with `None` clears) the total timeout of every later call of this client
    /// and its clones, over the backend's own (a caller widening it for a slow call, as
    /// code written for the original does through `sdk._backend._timeout`).
    pub fn set_call_timeout(&self, timeout: Option<Duration>) {
        let micros = timeout.map_or(NO_OVERRIDE, |d| {
            u64::try_from(d.as_micros()).unwrap_or(NO_OVERRIDE - 1)
        });
        self.call_timeout.store(micros, Ordering::Relaxed);
    }

    /// The total timeout set with [`Client::set_call_timeout`].
    pub fn call_timeout(&self) -> Option<Duration> {
        match self.call_timeout.load(Ordering::Relaxed) {
            NO_OVERRIDE => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }

    /// Attaches (or with `None` removes) the embedding layer's hook.
    pub fn set_hook(&self, hook: Option<Hook>) {
        *self.hook.0.write() = hook;
    }

    /// The hook attached with [`Client::set_hook`].
    pub fn hook(&self) -> Option<Hook> {
        self.hook.0.read().clone()
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The schema requests are encoded (and validated) with.
    pub fn schema(&self) -> &Arc<ApiSchema> {
        &self.schema
    }

    /// The mock behind this client, if it is one.
    pub fn mock(&self) -> Option<&crate::mock::MockPve> {
        self.backend.mock()
    }

    /// Whether calls answer in-process without I/O (the mock).
    pub fn is_in_process(&self) -> bool {
        self.backend.mock().is_some()
    }

    /// Whether a call answers at once, in place: the mock with no latency set. The async
    /// SDK then skips the trip through the event loop; anything else (a transport, a mock
    /// told to be slow) runs on the runtime so that the loop never waits.
    pub fn answers_in_place(&self) -> bool {
        self.backend.mock().is_some_and(|m| m.latency().is_zero())
    }

    /// Sends one request and returns the unwrapped `data` (blocking for real transports).
    pub fn call(
        &self,
        method: Method,
        path: &str,
        params: Map<String, Value>,
    ) -> Result<Value, Error> {
        self.execute(Call::new(method, path, params))
            .map(Answer::into_value)
    }

    /// `call`, refusing answers larger than `limit` bytes.
    pub fn call_bounded(
        &self,
        method: Method,
        path: &str,
        params: Map<String, Value>,
        limit: usize,
    ) -> Result<Value, Error> {
        let mut call = Call::new(method, path, params);
        call.limit = Some(limit);
        self.execute(call).map(Answer::into_value)
    }

    /// Runs `call` to its end, blocking the calling thread while a transport (or the
    /// mock's latency) takes its time.
    pub fn execute(&self, call: Call) -> Result<Answer, Error> {
        match &self.backend {
            Backend::Mock(m) => {
                let latency = m.latency();
                if !latency.is_zero() {
                    std::thread::sleep(latency);
                }
                let call = self.prepare(call)?;
                self.logged(&call, || m.call(&call))
            }
            Backend::Https(_) | Backend::Pvesh(_) => {
                crate::runtime::block_on(self.clone().execute_async(call))
            }
        }
    }

    /// Runs `call` on the shared runtime (any backend; the mock waits its latency there).
    pub async fn execute_async(self, call: Call) -> Result<Answer, Error> {
        self.execute_shared(call).await
    }

    /// [`Client::execute_async`] on a borrowed client (one shared through an `Arc` is not
    /// cloned for each call).
    pub async fn execute_shared(&self, call: Call) -> Result<Answer, Error> {
        let call = self.prepare(call)?;
        let started = self.wants_request_lines().then(Instant::now);
        let result = self.backend.call(&call).await;
        if let Some(t) = started {
            self.request_line(&call, t, &result);
        }
        result
    }

    /// Encodes the parameters and, with validation on, checks them.
    fn prepare(&self, mut call: Call) -> Result<Call, Error> {
        call.params = encode_params(Some(&self.schema), call.method, &call.path, call.params);
        if call.timeout.is_none() {
            call.timeout = self.call_timeout();
        }
        if self.validate {
            let mut params = call.params.clone();
            for up in &call.uploads {
                params
                    .entry(up.field.clone())
                    .or_insert_with(|| Value::String(up.file_name.clone()));
            }
            self.schema
                .validate_request(call.method.as_str(), &call.path, &params)
                .map_err(ApiError::from)?;
        }
        Ok(call)
    }

    /// Runs `f` and writes the request line (DEBUG) when the backend's logger wants it.
    fn logged(
        &self,
        call: &Call,
        f: impl FnOnce() -> Result<Answer, Error>,
    ) -> Result<Answer, Error> {
        if !self.wants_request_lines() {
            return f();
        }
        let started = Instant::now();
        let result = f();
        self.request_line(call, started, &result);
        result
    }

    fn wants_request_lines(&self) -> bool {
        self.trace.0.is_some()
            || log::log_enabled!(target: self.backend.kind().log_target(), log::Level::Debug)
    }

    /// The request's line, to the log (DEBUG) and to the trace.
    fn request_line<T>(&self, call: &Call, started: Instant, result: &Result<T, Error>) {
        let kind = self.backend.kind();
        let line = format_request_line(kind, call, started, result);
        log::debug!(target: kind.log_target(), "{line}");
        if let Some(trace) = &self.trace.0 {
            trace(&line);
        }
    }

    /// `(ticket, CSRFPreventionToken)` of HTTPS ticket authentication (logs in if needed);
    /// `None` for every other kind of authentication.
    pub async fn tokens(&self) -> Result<Option<(String, String)>, Error> {
        self.backend.tokens().await
    }

    /// Releases connections and sessions (the client stays usable: it reconnects).
    pub async fn close(&self) {
        self.backend.close().await;
    }
}

/// One line per request: method, path, outcome, duration, backend. Never a parameter
/// value: a 400 says only that verification failed, and messages are cut short.
fn format_request_line<T>(
    kind: BackendKind,
    call: &Call,
    started: Instant,
    result: &Result<T, Error>,
) -> String {
    let outcome = match result {
        Ok(_) => "200 OK".to_string(),
        Err(Error::Api(e)) if e.status == 400 => "400 Parameter verification failed.".into(),
        Err(Error::Api(e)) => format!("{} {}", e.status, shorten(&e.message)),
        Err(e) => format!("failed: {}", shorten(&e.to_string())),
    };
    format!(
        "{} {} -> {outcome} in {:.1} ms ({kind})",
        call.method,
        call.path,
        started.elapsed().as_secs_f64() * 1e3
    )
}

/// The first line of `text`, at most 200 characters.
fn shorten(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}
