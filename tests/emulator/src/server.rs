//! The HTTP surface: routing, the gate every request passes (recording, origin, host and key
//! checks), the native `/api/*` handlers and the `/_emulator/*` control endpoints.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::gojson::{self, check, field, DecodeError, Want};
use crate::model::ModelSpec;
use crate::openai;
use crate::reply::{RecordedRequest, Reply};
use crate::state::{Installed, Shared};
use crate::stream::{self, DisconnectGuard, GuardedBody, Step};
use crate::util::{fake_digest, go_quote, ms, normalize_model, now_rfc3339, qualified_model, rfc3339};

pub type St = State<Arc<Shared>>;

pub const JSON: &str = "application/json; charset=utf-8";
pub const NDJSON: &str = "application/x-ndjson";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/api/version", get(version))
        .route("/api/tags", get(tags))
        .route("/api/show", post(show))
        .route("/api/ps", get(ps))
        .route("/api/delete", axum::routing::delete(delete))
        .route("/api/pull", post(pull))
        .route("/api/chat", post(chat))
        .route("/api/generate", post(generate))
        .route("/v1/models", get(openai::models))
        .route("/v1/models/{*model}", get(openai::model))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/_emulator/reset", post(ctl_reset))
        .route("/_emulator/models", post(ctl_models))
        .route("/_emulator/catalogue", post(ctl_catalogue))
        .route("/_emulator/replies", post(ctl_replies))
        .route("/_emulator/requests", get(ctl_requests))
        .route("/_emulator/version", post(ctl_version))
        .route("/_emulator/pull_delay", post(ctl_pull_delay))
        .route("/_emulator/pull_replies", post(ctl_pull_replies))
        .route("/_emulator/api_key", post(ctl_api_key))
        .route("/_emulator/origins", post(ctl_origins))
        // gin: unknown paths are a plain-text 404, wrong methods a plain-text 405
        // (Ollama sets HandleMethodNotAllowed).
        .fallback(|| async { plain(StatusCode::NOT_FOUND, "404 page not found") })
        .method_not_allowed_fallback(|| async { plain(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed") })
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

// ---------------------------------------------------------------------------------------------
// Response helpers

pub fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
}

pub fn json_with(status: StatusCode, content_type: &'static str, v: &impl Serialize) -> Response {
    let body = serde_json::to_vec(v).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub fn json_ok(v: &impl Serialize) -> Response {
    json_with(StatusCode::OK, JSON, v)
}

/// JSON with a status given as a number (an unknown one is a 500).
pub fn json_status(status: u16, v: &impl Serialize) -> Response {
    json_with(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), JSON, v)
}

pub fn error(status: u16, msg: &str) -> Response {
    json_status(status, &json!({ "error": msg }))
}

fn streaming(content_type: &'static str, steps: Vec<Step>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], stream::body(steps)).into_response()
}

/// A failure before anything is generated: the status and the message each surface wraps in its own shape.
pub type Failure = (u16, String);

/// A request that could not be read is a 400 with the reader's message.
pub fn bad_request(message: String) -> Failure {
    (400, message)
}

/// What the two surfaces (the native API and `/v1`) write differently around the same scripted reply, so that
/// the code that plays a script, including its interruptions, is written once.
pub struct Wire {
    /// A JSON error body with this status.
    pub error: fn(u16, &str) -> Response,
    /// An error that comes after the first byte: the last step of the stream.
    pub stream_error: fn(&str) -> Step,
    /// The content type of a stream.
    pub stream_type: &'static str,
    /// The content type of a whole (unstreamed) answer; a cut one is sent with it.
    pub whole_type: &'static str,
}

/// The native API: `{"error": …}`, NDJSON lines.
pub const NATIVE: Wire = Wire { error, stream_error: error_line, stream_type: NDJSON, whole_type: JSON };

fn error_line(message: &str) -> Step {
    line(&json!({ "error": message }))
}

impl Wire {
    pub fn stream(&self, steps: Vec<Step>) -> Response {
        streaming(self.stream_type, steps)
    }

    /// Waits as long as the script makes the first byte wait; a scripted error status is then the whole answer.
    pub async fn error_status(&self, script: &Reply) -> Option<Response> {
        tokio::time::sleep(ms(script.first_byte_delay_ms)).await;
        script.is_error_status().then(|| (self.error)(script.status, &script.error_message()))
    }

    /// An unstreamed answer goes out whole once its `pieces` would have been made, `delay_ms` apart (up to an
    /// interruption); the interruption is then the whole answer. `None`: there is none, the caller answers.
    pub async fn unstreamed_interruption(
        &self,
        script: &Reply,
        interrupt: Option<(usize, Interrupt)>,
        pieces: usize,
        delay_ms: u64,
    ) -> Option<Response> {
        let sent = interrupt.map_or(pieces, |(at, _)| at);
        tokio::time::sleep(ms(delay_ms * sent as u64)).await;
        Some(match interrupt?.1 {
            // A failed generation is reported as a plain error when nothing was streamed.
            Interrupt::Error => (self.error)(500, &script.error_message()),
            Interrupt::Stall => std::future::pending().await,
            Interrupt::Cut => streaming(self.whole_type, vec![Step::Cut]),
        })
    }

    /// Pushes the steps of an interruption due at piece `i`, if one is; true if the stream ends there.
    pub fn interrupted(
        &self,
        steps: &mut Vec<Step>,
        interrupt: Option<(usize, Interrupt)>,
        i: usize,
        script: &Reply,
    ) -> bool {
        match interrupt {
            Some((at, kind)) if at == i => {
                steps.push(match kind {
                    Interrupt::Cut => Step::Cut,
                    Interrupt::Stall => Step::Stall,
                    Interrupt::Error => (self.stream_error)(&script.error_message()),
                });
                true
            }
            _ => false,
        }
    }
}

/// NDJSON line: compact JSON plus `\n`, as Go's encoder writes.
pub fn line(v: &impl Serialize) -> Step {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Step::line(b)
}

/// Body decoding shared by the native handlers: gin's `ShouldBindJSON` semantics. Every
/// failure is a 400 with this message.
fn decode_native(body: &[u8]) -> Result<Value, String> {
    match gojson::decode(body) {
        Ok(v) => Ok(v),
        Err(DecodeError::Eof) => Err("missing request body".into()),
        Err(DecodeError::Msg(m)) => Err(m),
    }
}

// ---------------------------------------------------------------------------------------------
// The gate

/// Every non-control request is recorded, then checked the way Ollama's middleware does.
async fn gate(State(st): St, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_emulator/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return error(400, "failed to read request body");
    };
    let mut headers = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let body_value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let id = st.record(RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers,
        media: crate::media::in_request(parts.uri.path(), &body_value),
        body: body_value,
        client_disconnected: false,
    });
    // Armed from here: if hyper drops the handler future or the body early, the client left.
    let guard = DisconnectGuard::new(st.clone(), id);
    let is_head = parts.method == Method::HEAD;
    let req = Request::from_parts(parts, Body::from(bytes));

    let response = match check_access(&st, &req) {
        Access::Deny(r) => r,
        Access::Allow { cors_origin } => {
            let mut r = next.run(req).await;
            if let Some(origin) = cors_origin {
                if let Ok(v) = HeaderValue::from_str(&origin) {
                    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
                    r.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
                }
            }
            r
        }
    };
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, GuardedBody::wrap(body, guard, is_head))
}

enum Access {
    Allow { cors_origin: Option<String> },
    Deny(Response),
}

fn check_access(st: &Shared, req: &Request) -> Access {
    let headers = req.headers();
    let host = header_str(headers, header::HOST.as_str()).unwrap_or_default();
    let mut cors_origin = None;

    // gin-contrib/cors: no Origin → not a CORS request; Origin equal to the Host → same-origin.
    if let Some(origin) = header_str(headers, header::ORIGIN.as_str()) {
        let same_origin = origin == format!("http://{host}") || origin == format!("https://{host}");
        if !same_origin {
            let extra = st.lock().extra_origins.clone();
            if !origin_allowed(&origin, &extra) {
                return Access::Deny(StatusCode::FORBIDDEN.into_response());
            }
            if req.method() == Method::OPTIONS {
                return Access::Deny(preflight(&origin));
            }
            cors_origin = Some(origin);
        }
    }

    // Ollama's allowedHostsMiddleware (DNS-rebinding protection on a loopback listener).
    if !host_allowed(&host) {
        return Access::Deny(StatusCode::FORBIDDEN.into_response());
    }

    // Not Ollama: an optional bearer key, as a proxy in front of Ollama would demand.
    let key = st.lock().api_key.clone();
    if let Some(key) = key {
        let given = header_str(headers, header::AUTHORIZATION.as_str()).unwrap_or_default();
        if given != format!("Bearer {key}") {
            let path = req.uri().path();
            let r = if path.starts_with("/v1/") {
                openai::error_response(401, "Incorrect API key provided")
            } else {
                error(401, "unauthorized")
            };
            return Access::Deny(r);
        }
    }
    Access::Allow { cors_origin }
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Ollama's default allowed origins (envconfig.AllowedOrigins) plus OLLAMA_ORIGINS-like extras.
/// Note that real Ollama allows `tauri://*` (macOS/Linux webviews) but not
/// `http://tauri.localhost` (Windows webviews).
pub fn origin_allowed(origin: &str, extra: &[String]) -> bool {
    let mut patterns: Vec<String> = extra.to_vec();
    for host in ["localhost", "127.0.0.1", "0.0.0.0"] {
        for scheme in ["http", "https"] {
            patterns.push(format!("{scheme}://{host}"));
            patterns.push(format!("{scheme}://{host}:*"));
        }
    }
    for p in ["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"] {
        patterns.push(p.into());
    }
    patterns.iter().any(|p| {
        let p = p.trim();
        if p == "*" {
            return true;
        }
        match p.split_once('*') {
            Some((prefix, suffix)) => {
                origin.len() >= prefix.len() + suffix.len() && origin.starts_with(prefix) && origin.ends_with(suffix)
            }
            None => p == origin,
        }
    })
}

fn host_allowed(host: &str) -> bool {
    let name = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    }
    .to_ascii_lowercase();
    if name.is_empty() || name == "localhost" || name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    [".localhost", ".local", ".internal"].iter().any(|tld| name.ends_with(tld))
}

fn preflight(origin: &str) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Origin,Content-Length,Content-Type,Authorization,User-Agent,Accept,X-Requested-With"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("43200"));
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    r
}

// ---------------------------------------------------------------------------------------------
// Simple endpoints

async fn root() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Ollama is running").into_response()
}

async fn version(State(st): St) -> Response {
    let v = st.lock().version.clone();
    json_ok(&json!({ "version": v }))
}

/// One `/api/tags` entry; the fields Ollama 0.30+ added (§1) only where the model has them,
/// as Go's `omitempty` leaves them out.
fn tag_entry(m: &Installed) -> Value {
    let mut entry = json!({
        "name": m.spec.name,
        "model": m.spec.name,
        "modified_at": rfc3339(m.modified_at),
        "size": m.spec.size,
        "digest": m.spec.digest(),
        "details": m.spec.listed_details(),
    });
    if let Some(remote) = &m.spec.remote_model {
        entry["remote_model"] = json!(remote);
    }
    if let Some(host) = &m.spec.remote_host {
        entry["remote_host"] = json!(host);
    }
    if let Some(caps) = &m.spec.listed_capabilities {
        entry["capabilities"] = json!(caps);
    }
    entry
}

/// Installed models, most recently modified first (as ListHandler sorts them).
pub fn sorted_models(st: &Shared) -> Vec<Installed> {
    let mut models = st.lock().models.clone();
    models.sort_by_key(|m| std::cmp::Reverse(m.modified_at));
    models
}

async fn tags(State(st): St) -> Response {
    let models: Vec<Value> = sorted_models(&st).iter().map(tag_entry).collect();
    json_ok(&json!({ "models": models }))
}

/// `model` (or the deprecated `name`) of show/pull/delete requests.
fn model_or_name(obj: &Map<String, Value>, strukt: &str) -> Result<String, String> {
    check(obj, "model", Want::Str, strukt, "model", "string")?;
    check(obj, "name", Want::Str, strukt, "name", "string")?;
    let get = |k| field(obj, k).and_then(Value::as_str).unwrap_or("").to_string();
    let model = get("model");
    Ok(if model.is_empty() { get("name") } else { model })
}

async fn show(State(st): St, body: Bytes) -> Response {
    let v = match decode_native(&body) {
        Ok(v) => v,
        Err(m) => return error(400, &m),
    };
    let model = match gojson::top_object(&v, "api.ShowRequest").and_then(|o| model_or_name(&o, "ShowRequest")) {
        Ok(m) => m,
        Err(m) => return error(400, &m),
    };
    if model.is_empty() {
        return error(400, "model is required");
    }
    let installed = st.lock().installed(&model).cloned();
    let Some(m) = installed else {
        return error(404, &format!("model '{model}' not found"));
    };
    let spec = &m.spec;
    let mut shown = json!({
        "license": spec.license(),
        "modelfile": spec.modelfile(),
        "parameters": spec.parameters(),
        "template": spec.template(),
        "details": spec.details(),
        "model_info": spec.model_info(),
        "capabilities": spec.capabilities,
        "modified_at": rfc3339(m.modified_at),
    });
    if let Some(projector) = &spec.projector_info {
        shown["projector_info"] = projector.clone();
    }
    json_ok(&shown)
}

async fn ps(State(st): St) -> Response {
    let now = SystemTime::now();
    let mut inner = st.lock();
    // Expired models have been unloaded by the scheduler.
    inner.loaded.retain(|l| match l.expires_at {
        Some(t) => t > now,
        None => true,
    });
    let mut loaded = inner.loaded.clone();
    drop(inner);
    let far_future = now + std::time::Duration::from_secs(300 * 365 * 86_400);
    loaded.sort_by_key(|l| std::cmp::Reverse(l.expires_at.unwrap_or(far_future)));
    let models: Vec<Value> = loaded
        .iter()
        .map(|l| {
            json!({
                "name": l.spec.name,
                "model": l.spec.name,
                "size": l.spec.size + 400_000_000,
                "digest": l.spec.digest(),
                "details": l.spec.details(),
                "expires_at": rfc3339(l.expires_at.unwrap_or(far_future)),
                "size_vram": 0,
                "context_length": l.context_length,
            })
        })
        .collect();
    json_ok(&json!({ "models": models }))
}

async fn delete(State(st): St, body: Bytes) -> Response {
    let v = match decode_native(&body) {
        Ok(v) => v,
        Err(m) => return error(400, &m),
    };
    let model = match gojson::top_object(&v, "api.DeleteRequest").and_then(|o| model_or_name(&o, "DeleteRequest")) {
        Ok(m) => m,
        Err(m) => return error(400, &m),
    };
    if model.is_empty() {
        return error(400, &format!("name {} is invalid", go_quote(&model)));
    }
    if st.lock().remove_model(&model) {
        StatusCode::OK.into_response()
    } else {
        error(404, &format!("model '{model}' not found"))
    }
}

#[derive(Serialize)]
struct Progress {
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed: Option<u64>,
}

fn status(s: &str) -> Progress {
    Progress { status: s.into(), digest: None, total: None, completed: None }
}

async fn pull(State(st): St, body: Bytes) -> Response {
    let v = match decode_native(&body) {
        Ok(v) => v,
        Err(m) => return error(400, &m),
    };
    let parsed = gojson::top_object(&v, "api.PullRequest").and_then(|o| {
        check(&o, "stream", Want::Bool, "PullRequest", "stream", "bool")?;
        let stream = field(&o, "stream").and_then(Value::as_bool).unwrap_or(true);
        Ok((model_or_name(&o, "PullRequest")?, stream))
    });
    let (model, stream) = match parsed {
        Ok(p) => p,
        Err(m) => return error(400, &m),
    };
    if model.trim().is_empty() {
        return error(400, "invalid model name");
    }
    let (found, installed, pull_delay, script) = {
        let mut inner = st.lock();
        let want = normalize_model(&model);
        let found = inner.catalogue.iter().find(|m| normalize_model(&m.name) == want).cloned();
        let installed = inner.installed(&model).map(|m| m.spec.clone());
        (found, installed, inner.pull_delay_ms, inner.take_pull_reply(&model))
    };
    let script = script.unwrap_or_default();
    let delay = if script.delay_ms > 0 { script.delay_ms } else { pull_delay };
    if let Some(r) = NATIVE.error_status(&script).await {
        return r;
    }

    // PullModel (server/images.go): "pulling manifest" goes out before the registry is asked, so
    // an unknown model is an error line after it (os.ErrNotExist from the registry's 404).
    let mut lines = vec![status("pulling manifest")];
    let end = match found {
        None => PullEnd::Fail("pull model manifest: file does not exist".into()),
        Some(mut spec) => {
            // Installed under its short display name, as `ollama list` shows it.
            spec.name = short_name(&model);
            // Blobs already on disk are reported once, complete, and not verified again.
            let cached = installed.as_ref() == Some(&spec);
            for (digest, total) in spec.layers() {
                let mk = |completed: Option<u64>| Progress {
                    status: format!("pulling {}", &digest[..12]),
                    digest: Some(format!("sha256:{digest}")),
                    total: Some(total),
                    completed,
                };
                if cached {
                    lines.push(mk(Some(total)));
                    continue;
                }
                // `completed` is omitted while 0 (omitempty); a big blob grows over several ticks.
                lines.push(mk(None));
                let steps = if total >= 1_000_000 { 4 } else { 1 };
                lines.extend((1..=steps).map(|k| mk(Some(total * k / steps))));
            }
            lines.push(status("verifying sha256 digest"));
            lines.push(status("writing manifest"));
            // Only a re-pull that replaced blobs of an older version has any to remove.
            if installed.as_ref().is_some_and(|old| *old != spec) {
                lines.push(status("removing unused layers"));
            }
            PullEnd::Success(Box::new(spec))
        }
    };
    let interrupt = pull_interruption(&script, lines.len());

    if !stream {
        // waitForStream answers 500 with the error when it arrives.
        if let Some(r) = NATIVE.unstreamed_interruption(&script, interrupt, lines.len(), delay).await {
            return r;
        }
        return match end {
            PullEnd::Fail(msg) => error(500, &msg),
            PullEnd::Success(spec) => {
                st.lock().install(*spec);
                json_ok(&status("success"))
            }
        };
    }
    let mut steps = Vec::new();
    for i in 0..=lines.len() {
        if i > 0 {
            steps.push(Step::Sleep(delay));
        }
        if NATIVE.interrupted(&mut steps, interrupt, i, &script) {
            return NATIVE.stream(steps);
        }
        if let Some(l) = lines.get(i) {
            steps.push(line(l));
        }
    }
    match end {
        PullEnd::Fail(msg) => steps.push(line(&json!({ "error": msg }))),
        PullEnd::Success(spec) => {
            // The manifest is written before "success" is reported.
            let st = st.clone();
            steps.push(Step::Run(Box::new(move || st.lock().install(*spec))));
            steps.push(line(&status("success")));
        }
    }
    NATIVE.stream(steps)
}

enum PullEnd {
    /// Boxed: a model definition is far larger than an error message.
    Success(Box<ModelSpec>),
    Fail(String),
}

/// Where a pull script breaks off: after how many progress lines (at most `lines`, i.e. just
/// before the final `success`), and how.
fn pull_interruption(script: &Reply, lines: usize) -> Option<(usize, Interrupt)> {
    [(script.cut_after, Interrupt::Cut), (script.stall_after, Interrupt::Stall), (script.error_after, Interrupt::Error)]
        .into_iter()
        .filter_map(|(at, kind)| at.map(|at| (at.min(lines), kind)))
        .min_by_key(|(at, _)| *at)
}

/// "registry.ollama.ai/library/gemma3" → "gemma3:latest".
fn short_name(model: &str) -> String {
    normalize_model(model)
}

// ---------------------------------------------------------------------------------------------
// Generation (shared by /api/chat, /api/generate and /v1/chat/completions)

/// A validated generation request.
pub struct Gen {
    /// The model as the client wrote it; echoed back in responses.
    pub model: String,
    pub spec: ModelSpec,
    pub stream: bool,
    /// Text of the last user message (or the prompt), for the default reply.
    pub last_user: String,
    pub prompt_tokens: u64,
    pub keep_alive: Option<f64>,
    pub num_ctx: u64,
    /// Whether the model's thinking is streamed (see `streams_thinking`).
    pub think: bool,
}

/// Checks Ollama applies before running a model, in its order. Returns (status, message).
pub fn check_runnable(
    spec: &ModelSpec,
    model: &str,
    has_tools: bool,
    think: &Option<Value>,
    endpoint: &str,
) -> Result<(), (u16, String)> {
    let think_on = matches!(think, Some(Value::Bool(true)) | Some(Value::String(_)));
    if !spec.has("thinking") && think_on {
        return Err((400, format!("{} does not support thinking", go_quote(model))));
    }
    if !spec.has("completion") {
        return Err((400, format!("{} does not support {endpoint}", go_quote(model))));
    }
    if has_tools && !spec.has("tools") {
        return Err((400, format!("{} does not support tools", qualified_model(model))));
    }
    Ok(())
}

/// Checks done once the prompt is built: string think levels (0.12: harmony models only; 0.30+
/// and `think_levels`: any thinking model, §3) and media. Audio (WAV/MP3, detected as
/// `llm.DetectMediaKind` does, §5) needs `audio`; anything else is an image and needs `vision`.
pub fn check_inputs(spec: &ModelSpec, think: &Option<Value>, images: &[Vec<u8>]) -> Result<(), (u16, String)> {
    if let (Some(Value::String(level)), false) = (think, spec.think_levels) {
        return Err((400, format!("think value {} is not supported for this model", go_quote(level))));
    }
    const PREFIX: &str = "Failed to create new sequence: failed to process inputs: ";
    let (audio, pictures): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
        images.iter().partition(|b| crate::media::audio_format(b).is_some());
    // ⚠ The facts have no error for audio to a model that cannot hear; the emulator answers as
    // for an image to a model that cannot see.
    if !audio.is_empty() && !spec.has("audio") {
        return Err((500, format!("{PREFIX}this model is missing data required for audio input")));
    }
    if pictures.is_empty() {
        return Ok(());
    }
    if !spec.has("vision") {
        return Err((500, format!("{PREFIX}this model is missing data required for image input")));
    }
    if pictures.iter().any(|img| !gojson::is_supported_image(img)) {
        return Err((500, format!("{PREFIX}image: unknown format")));
    }
    Ok(())
}

/// Whether a request gets the model's thinking (§3): only thinking models think; an omitted
/// `think` means on (Ollama's default since 0.12.4), except ⚠ on `/api/generate` for models
/// whose thinking that endpoint drops; `false` means off, `true` and any level on.
pub fn streams_thinking(spec: &ModelSpec, think: &Option<Value>, kind: Kind) -> bool {
    spec.has("thinking")
        && match think {
            None => !(kind == Kind::Generate && spec.generate_drops_default_thinking),
            Some(Value::Bool(on)) => *on,
            Some(_) => true,
        }
}

pub fn default_reply(last_user: &str) -> Reply {
    Reply::text(&format!("Hello from the emulator. You said: {last_user}"))
}

/// Takes the next scripted reply for this model (or the default), resolved for this request,
/// and notes the model as loaded.
pub fn next_reply(st: &Shared, g: &Gen) -> Reply {
    let mut inner = st.lock();
    inner.mark_loaded(&g.spec, g.keep_alive, g.num_ctx);
    let mut reply = inner.take_reply(&g.model).unwrap_or_else(|| default_reply(&g.last_user));
    if g.spec.tool_call_ids {
        if let Some(Value::Array(calls)) = &mut reply.tool_calls {
            inner.turns_with_calls += 1;
            number_tool_calls(calls, inner.turns_with_calls);
        }
    }
    reply.resolved(g.think)
}

/// Gives each call what Ollama 0.30+ sends (§4) where the script left it out: an `id` of
/// `call_` and 8 characters of [a-z0-9] (here hex, unique per turn and call), and
/// `function.index` counting from 0.
fn number_tool_calls(calls: &mut [Value], turn: u64) {
    for (i, call) in calls.iter_mut().enumerate() {
        let Value::Object(call) = call else { continue };
        call.entry("id").or_insert_with(|| json!(format!("call_{}", &fake_digest(&format!("{turn}:{i}"))[..8])));
        if let Some(Value::Object(function)) = call.get_mut("function") {
            function.entry("index").or_insert(json!(i));
        }
    }
}

/// A rough token estimate: about four characters per token, plus template overhead.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// Where a scripted reply breaks off.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Interrupt {
    Cut,
    Stall,
    Error,
}

/// The first interruption of a reply: (after how many chunks, what). Values past the end apply
/// after the last chunk, before the final message.
pub fn interruption(reply: &Reply) -> Option<(usize, Interrupt)> {
    let n = reply.pieces().len();
    [(reply.cut_after, Interrupt::Cut), (reply.stall_after, Interrupt::Stall), (reply.error_after, Interrupt::Error)]
        .into_iter()
        .filter_map(|(at, kind)| at.map(|at| (at.min(n), kind)))
        .min_by_key(|(at, _)| *at)
}

/// Ollama's timing metrics (nanoseconds); zero fields are omitted, as Go's `omitempty` does.
#[derive(Serialize, Clone, Copy)]
pub struct Metrics {
    #[serde(skip_serializing_if = "is_zero")]
    pub total_duration: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub load_duration: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub prompt_eval_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub prompt_eval_duration: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub eval_count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub eval_duration: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub fn metrics(prompt_tokens: u64, reply: &Reply) -> Metrics {
    let eval_count = (reply.thinking.len() + reply.chunks.len()) as u64;
    let load = 48_123_456;
    let prompt_eval_duration = prompt_tokens * 1_200_000;
    let eval_duration = eval_count * 18_000_000 + eval_count * reply.delay_ms * 1_000_000;
    Metrics {
        total_duration: load + prompt_eval_duration + eval_duration + 1_234_567,
        load_duration: load,
        prompt_eval_count: prompt_tokens,
        prompt_eval_duration,
        eval_count,
        eval_duration,
    }
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
    /// `omitempty` in Go: only on messages that carry thinking.
    #[serde(skip_serializing_if = "str::is_empty")]
    thinking: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<&'a Value>,
}

/// One line of /api/chat (`message`) or /api/generate (`response`).
#[derive(Serialize)]
struct NativeLine<'a> {
    model: &'a str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<&'a str>,
    /// /api/generate's thinking sits beside `response`.
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<&'a str>,
    done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    done_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<Vec<u64>>,
    #[serde(flatten)]
    metrics: Option<Metrics>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Chat,
    Generate,
}

fn native_line<'a>(kind: Kind, model: &'a str, content: &'a str, tool_calls: Option<&'a Value>) -> NativeLine<'a> {
    thinking_line(kind, model, "", content, tool_calls)
}

/// A line that may carry thinking: `message.thinking` for chat, `thinking` for generate (§3).
fn thinking_line<'a>(
    kind: Kind,
    model: &'a str,
    thinking: &'a str,
    content: &'a str,
    tool_calls: Option<&'a Value>,
) -> NativeLine<'a> {
    NativeLine {
        model,
        created_at: now_rfc3339(),
        message: (kind == Kind::Chat).then_some(Message { role: "assistant", content, thinking, tool_calls }),
        response: (kind == Kind::Generate).then_some(content),
        thinking: (kind == Kind::Generate && !thinking.is_empty()).then_some(thinking),
        done: false,
        done_reason: None,
        context: None,
        metrics: None,
    }
}

/// The load/unload answer to a request without messages (or prompt).
fn load_response(kind: Kind, model: &str, reason: &str) -> Response {
    let mut l = native_line(kind, model, "", None);
    l.done = true;
    l.done_reason = Some(reason);
    json_ok(&l)
}

/// Answers a native request with a scripted reply.
async fn native_reply(kind: Kind, g: Gen, reply: Reply) -> Response {
    if let Some(r) = NATIVE.error_status(&reply).await {
        return r;
    }
    let model = g.model.as_str();
    let done_reason = reply.done_reason.clone().unwrap_or_else(|| "stop".into());
    let m = metrics(g.prompt_tokens, &reply);
    let context =
        (kind == Kind::Generate).then(|| (0..g.prompt_tokens + m.eval_count).map(|i| 2 + i * 7 % 256_000).collect());
    let tool_calls = if kind == Kind::Chat { reply.tool_calls.as_ref() } else { None };
    let interrupt = interruption(&reply);

    let pieces = reply.pieces();
    if !g.stream {
        if let Some(r) = NATIVE.unstreamed_interruption(&reply, interrupt, pieces.len(), reply.delay_ms).await {
            return r;
        }
        let content = reply.content();
        let thinking = reply.thinking_text();
        let mut l = thinking_line(kind, model, &thinking, &content, tool_calls);
        l.done = true;
        l.done_reason = Some(&done_reason);
        l.context = context;
        l.metrics = Some(m);
        return json_ok(&l);
    }

    let mut steps = Vec::new();
    for (i, (thinking, content)) in pieces.iter().enumerate() {
        if NATIVE.interrupted(&mut steps, interrupt, i, &reply) {
            return NATIVE.stream(steps);
        }
        steps.push(Step::Sleep(reply.delay_ms));
        steps.push(line(&thinking_line(kind, model, thinking, content, None)));
    }
    if NATIVE.interrupted(&mut steps, interrupt, pieces.len(), &reply) {
        return NATIVE.stream(steps);
    }
    if let Some(calls) = tool_calls {
        // Ollama sends parsed tool calls in their own (not done) message, then the done line;
        // all of a turn's calls at once, arguments never in pieces (§4).
        steps.push(line(&native_line(kind, model, "", Some(calls))));
    }
    let mut done = native_line(kind, model, "", None);
    done.done = true;
    done.done_reason = Some(&done_reason);
    done.context = context;
    done.metrics = Some(m);
    steps.push(line(&done));
    NATIVE.stream(steps)
}

/// `options.num_ctx`, else Ollama's default of 4096.
fn num_ctx(obj: &Map<String, Value>) -> u64 {
    field(obj, "options").and_then(|o| o.get("num_ctx")).and_then(Value::as_u64).unwrap_or(4096)
}

/// A chat request as both `/api/chat` and `/v1/chat/completions` read it: their messages differ in shape, not in
/// what the emulator takes from them.
pub struct ChatParsed {
    pub obj: Map<String, Value>,
    pub model: String,
    pub messages: usize,
    /// Text of the last user message, for the default reply.
    pub last_user: String,
    /// All the messages' text, for the prompt's token count.
    pub all_text: String,
    pub images: Vec<Vec<u8>>,
    pub has_tools: bool,
}

impl ChatParsed {
    /// The request `obj` (its fields checked) with `messages` messages, whose text is yet to be [`add`](Self::add)ed.
    pub fn new(obj: Map<String, Value>, messages: usize) -> Self {
        ChatParsed {
            model: field(&obj, "model").and_then(Value::as_str).unwrap_or("").to_string(),
            has_tools: field(&obj, "tools").and_then(Value::as_array).is_some_and(|t| !t.is_empty()),
            messages,
            last_user: String::new(),
            all_text: String::new(),
            images: Vec::new(),
            obj,
        }
    }

    /// One message's text.
    pub fn add(&mut self, role: &str, text: &str) {
        self.all_text.push_str(text);
        if role == "user" {
            self.last_user = text.to_string();
        }
    }

    /// The generation it asks for on `spec`, streamed unless `stream` says otherwise (its default differs
    /// between the surfaces); the model kept loaded as long as the default, with the default context.
    pub fn generation(self, spec: ModelSpec, think: &Option<Value>, stream_default: bool) -> Gen {
        Gen {
            stream: field(&self.obj, "stream").and_then(Value::as_bool).unwrap_or(stream_default),
            last_user: self.last_user,
            prompt_tokens: estimate_tokens(&self.all_text) + 10 * self.messages as u64,
            keep_alive: None,
            num_ctx: 4096,
            think: streams_thinking(&spec, think, Kind::Chat),
            model: self.model,
            spec,
        }
    }
}

/// ChatHandler's first checks, on either surface: a model is named, and installed.
pub fn chat_model(st: &Shared, model: &str) -> Result<ModelSpec, Failure> {
    if model.trim().is_empty() {
        return Err((400, "model is required".into()));
    }
    st.lock()
        .find_model(model)
        .ok_or_else(|| (404, format!("model {} not found, try pulling it first", go_quote(model))))
}

/// Decodes an `api.ChatRequest` with Go's type errors.
fn parse_chat(v: &Value) -> Result<ChatParsed, String> {
    const S: &str = "ChatRequest";
    let obj = gojson::top_object(v, "api.ChatRequest")?;
    // This struct's fields and Go types (a twin of `openai::parse`'s on purpose: see there).
    check(&obj, "model", Want::Str, S, "model", "string")?;
    check(&obj, "messages", Want::Array, S, "messages", "[]api.Message")?;
    check(&obj, "options", Want::Object, S, "options", "map[string]interface {}")?;
    check(&obj, "stream", Want::Bool, S, "stream", "bool")?;
    check(&obj, "tools", Want::Array, S, "tools", "api.Tools")?;
    gojson::keep_alive(&obj)?;
    gojson::think(&obj)?;

    let messages = field(&obj, "messages").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut p = ChatParsed::new(obj, messages.len());
    for m in &messages {
        let m = match m {
            Value::Object(m) => m,
            Value::Null => continue,
            other => return Err(gojson::type_error(other, S, "messages", "api.Message")),
        };
        const M: &str = "Message";
        check(m, "role", Want::Str, M, "messages.role", "string")?;
        check(m, "content", Want::Str, M, "messages.content", "string")?;
        check(m, "thinking", Want::Str, M, "messages.thinking", "string")?;
        check(m, "tool_calls", Want::Array, M, "messages.tool_calls", "[]api.ToolCall")?;
        check(m, "tool_name", Want::Str, M, "messages.tool_name", "string")?;
        // A tool result names its call by `tool_name` or `tool_call_id` (§4).
        check(m, "tool_call_id", Want::Str, M, "messages.tool_call_id", "string")?;
        p.images.extend(gojson::decode_images(m, M, "messages.images")?);
        let role = field(m, "role").and_then(Value::as_str).unwrap_or("");
        p.add(role, field(m, "content").and_then(Value::as_str).unwrap_or(""));
    }
    Ok(p)
}

async fn chat(State(st): St, body: Bytes) -> Response {
    answer_chat(&st, &body).await.unwrap_or_else(|(code, msg)| error(code, &msg))
}

async fn answer_chat(st: &Shared, body: &[u8]) -> Result<Response, Failure> {
    let v = decode_native(body).map_err(bad_request)?;
    let mut p = parse_chat(&v).map_err(bad_request)?;
    let spec = chat_model(st, &p.model)?;
    let keep_alive = gojson::keep_alive(&p.obj).unwrap_or(None);
    let think = field(&p.obj, "think").cloned();
    if p.messages == 0 && keep_alive == Some(0.0) {
        st.lock().unload(&p.model);
        return Ok(load_response(Kind::Chat, &p.model, "unload"));
    }
    check_runnable(&spec, &p.model, p.has_tools, &think, "chat")?;
    let (messages, images, num_ctx) = (p.messages, std::mem::take(&mut p.images), num_ctx(&p.obj));
    let g = Gen { keep_alive, num_ctx, ..p.generation(spec, &think, true) };
    if messages == 0 {
        st.lock().mark_loaded(&g.spec, g.keep_alive, g.num_ctx);
        return Ok(load_response(Kind::Chat, &g.model, "load"));
    }
    check_inputs(&g.spec, &think, &images)?;
    let reply = next_reply(st, &g);
    Ok(native_reply(Kind::Chat, g, reply).await)
}

async fn generate(State(st): St, body: Bytes) -> Response {
    const S: &str = "GenerateRequest";
    let v = match decode_native(&body) {
        Ok(v) => v,
        Err(m) => return error(400, &m),
    };
    let parsed = gojson::top_object(&v, "api.GenerateRequest").and_then(|obj| {
        check(&obj, "model", Want::Str, S, "model", "string")?;
        check(&obj, "prompt", Want::Str, S, "prompt", "string")?;
        check(&obj, "suffix", Want::Str, S, "suffix", "string")?;
        check(&obj, "system", Want::Str, S, "system", "string")?;
        check(&obj, "template", Want::Str, S, "template", "string")?;
        check(&obj, "context", Want::Array, S, "context", "[]int")?;
        check(&obj, "stream", Want::Bool, S, "stream", "bool")?;
        check(&obj, "raw", Want::Bool, S, "raw", "bool")?;
        check(&obj, "options", Want::Object, S, "options", "map[string]interface {}")?;
        gojson::keep_alive(&obj)?;
        gojson::think(&obj)?;
        let images = gojson::decode_images(&obj, S, "images")?;
        Ok((obj, images))
    });
    let (obj, images) = match parsed {
        Ok(p) => p,
        Err(m) => return error(400, &m),
    };
    let text = |k| field(&obj, k).and_then(Value::as_str).unwrap_or("").to_string();
    let model = text("model");
    // GenerateHandler answers an invalid or unknown name with 404 `model '…' not found`.
    let Some(spec) = (!model.trim().is_empty()).then(|| st.lock().find_model(&model)).flatten() else {
        return error(404, &format!("model '{model}' not found"));
    };
    let prompt = text("prompt");
    let keep_alive = gojson::keep_alive(&obj).unwrap_or(None);
    let think = field(&obj, "think").cloned();
    if prompt.is_empty() && keep_alive == Some(0.0) {
        st.lock().unload(&model);
        return load_response(Kind::Generate, &model, "unload");
    }
    if field(&obj, "raw").and_then(Value::as_bool) == Some(true)
        && (!text("template").is_empty()
            || !text("system").is_empty()
            || field(&obj, "context").and_then(Value::as_array).is_some_and(|c| !c.is_empty()))
    {
        return error(400, "raw mode does not support template, system, or context");
    }
    if let (Some(Value::String(level)), false) = (&think, spec.think_levels) {
        return error(400, &format!("think value {} is not supported for this model", go_quote(level)));
    }
    if let Err((code, msg)) = check_runnable(&spec, &model, false, &think, "generate") {
        return error(code, &msg);
    }
    let g = Gen {
        stream: field(&obj, "stream").and_then(Value::as_bool).unwrap_or(true),
        prompt_tokens: estimate_tokens(&(text("system") + &prompt)) + 10,
        last_user: prompt,
        keep_alive,
        num_ctx: num_ctx(&obj),
        think: streams_thinking(&spec, &think, Kind::Generate),
        model,
        spec,
    };
    if g.last_user.is_empty() {
        st.lock().mark_loaded(&g.spec, g.keep_alive, g.num_ctx);
        return load_response(Kind::Generate, &g.model, "load");
    }
    if let Err((code, msg)) = check_inputs(&g.spec, &None, &images) {
        return error(code, &msg);
    }
    let reply = next_reply(&st, &g);
    native_reply(Kind::Generate, g, reply).await
}

// ---------------------------------------------------------------------------------------------
// Control endpoints (not recorded)

fn bad_control(e: impl std::fmt::Display) -> Response {
    error(400, &format!("bad control request: {e}"))
}

async fn ctl_reset(State(st): St) -> Response {
    st.reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn ctl_models(State(st): St, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<ModelSpec>>(&body) {
        Ok(models) => {
            st.lock().set_models(models);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control(e),
    }
}

async fn ctl_catalogue(State(st): St, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<ModelSpec>>(&body) {
        Ok(models) => {
            st.lock().catalogue = models;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control(e),
    }
}

/// A `Reply` or an array of them.
fn parse_replies(body: &[u8]) -> Result<Vec<Reply>, serde_json::Error> {
    match serde_json::from_slice::<Value>(body)? {
        Value::Array(items) => items.into_iter().map(serde_json::from_value::<Reply>).collect(),
        one => serde_json::from_value::<Reply>(one).map(|r| vec![r]),
    }
}

async fn ctl_replies(State(st): St, body: Bytes) -> Response {
    match parse_replies(&body) {
        Ok(replies) => {
            st.lock().queue.extend(replies);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control(e),
    }
}

async fn ctl_pull_replies(State(st): St, body: Bytes) -> Response {
    match parse_replies(&body) {
        Ok(replies) => {
            st.lock().pull_queue.extend(replies);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control(e),
    }
}

async fn ctl_requests(State(st): St) -> Response {
    let requests: Vec<RecordedRequest> = st.lock().requests.iter().map(|(_, r)| r.clone()).collect();
    json_ok(&requests)
}

async fn ctl_version(State(st): St, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => match v.get("version").and_then(Value::as_str) {
            Some(version) => {
                st.lock().version = version.into();
                StatusCode::NO_CONTENT.into_response()
            }
            None => bad_control("expected {\"version\": \"…\"}"),
        },
        Err(e) => bad_control(e),
    }
}

async fn ctl_pull_delay(State(st): St, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => match v.get("ms").and_then(Value::as_u64) {
            Some(n) => {
                st.lock().pull_delay_ms = n;
                StatusCode::NO_CONTENT.into_response()
            }
            None => bad_control("expected {\"ms\": N}"),
        },
        Err(e) => bad_control(e),
    }
}

async fn ctl_api_key(State(st): St, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) => {
            st.lock().api_key = v.get("key").and_then(Value::as_str).map(String::from);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control(e),
    }
}

async fn ctl_origins(State(st): St, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<String>>(&body) {
        Ok(origins) => {
            st.lock().extra_origins = origins;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_control(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_follow_ollama_defaults() {
        for ok in [
            "http://localhost",
            "http://localhost:5173",
            "https://127.0.0.1:8443",
            "http://0.0.0.0:3000",
            "tauri://localhost",
            "app://anything",
        ] {
            assert!(origin_allowed(ok, &[]), "{ok}");
        }
        for bad in [
            "http://tauri.localhost",
            "https://tauri.localhost",
            "null",
            "http://example.com",
            "http://localhost.evil.com",
            "chrome-extension://abc",
        ] {
            assert!(!origin_allowed(bad, &[]), "{bad}");
        }
        assert!(origin_allowed("http://tauri.localhost", &["http://tauri.localhost".into()]));
        assert!(origin_allowed("null", &["*".into()]));
    }

    #[test]
    fn hosts_follow_ollama_rules() {
        assert!(host_allowed("127.0.0.1:11434"));
        assert!(host_allowed("localhost:1"));
        assert!(host_allowed("[::1]:80"));
        assert!(host_allowed("box.local"));
        assert!(!host_allowed("evil.example.com"));
    }

    #[test]
    fn interruptions_pick_the_earliest() {
        let r = Reply::chunks(&["a", "b", "c"]).cut_after(2).error_after(1, "x");
        assert_eq!(interruption(&r), Some((1, Interrupt::Error)));
        let r = Reply::chunks(&["a"]).stall_after(9);
        assert_eq!(interruption(&r), Some((1, Interrupt::Stall)));
        assert_eq!(interruption(&Reply::text("a b")), None);
    }
}
