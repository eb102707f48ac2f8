//! `codefuel serve`: a sandboxed execution and reward service, a thin HTTP front end over the
//! `codefuel` library.
//!
//! Endpoints: `POST /run_code` (SandboxFusion's request and response, so verl's and the
//! `sandbox-fusion` client's code works by changing a URL; [`run_code`]), `POST /v1/judge`
//! and `POST /v1/evaluate` (the library's judge and evalplus evaluation; [`api`]),
//! `GET /health` and `GET /metrics` ([`metrics`]).
//!
//! Work runs on a fixed [`pool`] of runner threads behind a bounded queue: when it is full a
//! request gets 504 with `Retry-After` at once (verl and the sandbox-fusion client retry
//! it). Every cap is in [`limits`]. Responses are deterministic apart from timing fields, and
//! the server keeps no state between requests, so replicas behind any balancer agree.

pub mod api;
mod fields;
pub mod limits;
pub mod metrics;
pub mod pool;
pub mod run_code;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use codefuel::runtime::GuestKind;
use codefuel::{DatasetKind, Engine, EngineConfig};
use serde_json::{Value, json};

use crate::limits::{Caps, RETRY_AFTER_SECS};
use crate::metrics::Metrics;
use crate::pool::{Busy, Lost, Pool};

/// How to run the service.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on (port 0: any free port; the bound address goes to `ready`).
    pub bind: SocketAddr,
    /// The interpreter every request's programs run in (reported by `/health`).
    pub guest: GuestKind,
    /// Runner threads (sandbox runs at once).
    pub jobs: usize,
    /// Jobs that may wait for a runner thread; past it, requests get 504.
    pub max_queue: usize,
    /// When set, every request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Cache directory (compiled guest, datasets, ground truth).
    pub cache_dir: Option<PathBuf>,
    /// Local HumanEval+ / MBPP+ files for `/v1/evaluate` (else the evalplus override
    /// variables, the cache, or a download).
    pub dataset_files: Vec<(DatasetKind, PathBuf)>,
    /// Request caps.
    pub caps: Caps,
}

/// What every handler shares.
pub struct AppState {
    engine: Arc<Engine>,
    pool: Pool,
    metrics: Metrics,
    caps: Caps,
    token: Option<String>,
    dataset_files: Vec<(DatasetKind, PathBuf)>,
}

/// An error answer: an HTTP status and a message (JSON `{"error", "status", "message"}`, the
/// last two so SandboxFusion clients read it as a `SandboxError`).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// 400: the request is wrong; the message says where.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 413: a part of the request is over its cap.
    pub fn too_large(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: message.into(),
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl From<codefuel::Error> for ApiError {
    fn from(error: codefuel::Error) -> Self {
        match error {
            codefuel::Error::Input(message) => ApiError::bad_request(message),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<Lost> for ApiError {
    fn from(lost: Lost) -> Self {
        ApiError::internal(lost.0)
    }
}

impl From<Busy> for ApiError {
    fn from(_: Busy) -> Self {
        ApiError {
            status: StatusCode::GATEWAY_TIMEOUT,
            message: format!("the server is busy (queue full); retry in {RETRY_AFTER_SECS} s"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({"error": self.message, "status": "SandboxError", "message": self.message});
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::GATEWAY_TIMEOUT {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}

impl AppState {
    /// Runs `f` with the engine on a runner thread; 504 when the queue is full.
    async fn on_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let engine = Arc::clone(&self.engine);
        Ok(self.pool.run(move || f(&engine)).await??)
    }
}

/// Parses a JSON request body; 400 naming what is wrong.
pub fn parse_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::bad_request(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "the request body is not JSON: {e}"
        ))),
    }
}

/// The service's routes over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.caps.max_body_bytes;
    Router::new()
        .route("/run_code", post(run_code::handle))
        .route("/v1/judge", post(api::judge))
        .route("/v1/evaluate", post(api::evaluate))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize,
        ))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), measure))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// `GET /health`: up, and which guest the programs run in.
async fn health(State(state): State<Arc<AppState>>) -> axum::Json<Value> {
    axum::Json(json!({"status": "ok", "guest": state.engine.guest().name()}))
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.pool.gauges()),
    )
}

/// `--token-file`: 401 without the right bearer token (`/health` stays open, for probes).
async fn authorize(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token
        && request.uri().path() != "/health"
    {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return ApiError {
                status: StatusCode::UNAUTHORIZED,
                message: "missing or wrong bearer token (Authorization: Bearer <token>)".into(),
            }
            .into_response();
        }
    }
    next.run(request).await
}

/// Counts every request by endpoint and status, with its latency.
async fn measure(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let endpoint = match request.uri().path() {
        "/run_code" => "/run_code",
        "/v1/judge" => "/v1/judge",
        "/v1/evaluate" => "/v1/evaluate",
        "/health" => "/health",
        "/metrics" => "/metrics",
        _ => "other",
    };
    let start = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .request(endpoint, response.status().as_u16(), start.elapsed());
    response
}

/// Serves until `shutdown` resolves, then stops accepting, lets the requests in flight
/// finish and returns. `ready` gets the bound address once the server accepts connections.
pub async fn serve(
    config: ServerConfig,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The guest is compiled (or loaded from the cache) before the first request, not in it,
    // and off the async threads: preparing it runs the guest, whose WASI calls block on a
    // Tokio runtime of their own, which is not allowed on a thread driving this one.
    let engine_config = EngineConfig {
        cache_dir: config.cache_dir.clone(),
        jobs: Some(config.jobs),
        guest: config.guest,
    };
    let engine = tokio::task::spawn_blocking(move || -> anyhow::Result<Engine> {
        let engine = Engine::new(&engine_config)?;
        engine.run(&codefuel::RunRequest::new("pass"))?;
        Ok(engine)
    })
    .await??;
    let state = Arc::new(AppState {
        engine: Arc::new(engine),
        pool: Pool::new(config.jobs, config.max_queue)?,
        metrics: Metrics::default(),
        caps: config.caps.clone(),
        token: config.token.clone(),
        dataset_files: config.dataset_files.clone(),
    });
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    ready(listener.local_addr()?);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Runs the service on its own tokio runtime until SIGINT or SIGTERM (the CLI's entry).
pub fn run(config: ServerConfig, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, ready, shutdown_signal()))
}
