//! A client for OpenAI-compatible servers (vLLM, llama.cpp's server, LM Studio, a shared Ollama's
//! `/v1`): the model list and streamed chat completions (Server-Sent Events).
//!
//! It speaks the same `ChatRequest`/`ChatOutcome` as the Ollama client, with these differences:
//! - `num_ctx` and `keep_alive` cannot be set over this API and are not sent;
//! - images go as `data:` URIs in content parts;
//! - model capabilities are not part of the API: when the server is Ollama (its `/api/show` answers
//!   on the same host) they are asked for; otherwise they are guessed from the model's name
//!   (see [`guess_capabilities`]) unless the user set them.

use crate::chat::{ChatOutcome, ChatRequest, Message, Role, ToolCall, ToolCallFunction};
use crate::client::host;
use crate::client::ndjson::truncate;
use crate::client::ollama::ClientOptions;
use crate::error::{Error, Result};
use crate::models::{pick_model, Capability, ModelInfo};
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::future::join_all;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Model name → capabilities (`completion`, `vision`, `tools`) that the user set for a server.
pub type CapabilityOverrides = BTreeMap<String, Vec<String>>;

#[derive(Clone)]
pub struct OpenAiClient {
    /// The API's base, ending in `/` (e.g. `http://h:8000/v1/`): `models` and `chat/completions` join onto it.
    base: Url,
    http: reqwest::Client,
    opts: ClientOptions,
    overrides: CapabilityOverrides,
    /// Ollama's version when the server turned out to be Ollama (asked once, on first need).
    ollama: Arc<tokio::sync::OnceCell<Option<String>>>,
}

/// The API base for what a user typed: parsed like an Ollama host (no scheme → http, a bare host gets
/// port 11434), and a URL without a path gets `/v1`, where every OpenAI-compatible server has its API.
pub fn base_url(raw: &str) -> std::result::Result<Url, String> {
    let mut url = host::parse_host(raw)?;
    if url.path() == "/" {
        url.set_path("/v1/");
    }
    Ok(url)
}

impl OpenAiClient {
    /// A client for `base` (see [`base_url`]). A blank `api_key` counts as none.
    pub fn new(base: Url, api_key: Option<&str>, opts: ClientOptions) -> Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key.map(str::trim).filter(|k| !k.is_empty()) {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| Error::Usage("the API key contains characters that cannot be sent in a header".into()))?;
            value.set_sensitive(true); // kept out of debug output
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut b = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .default_headers(headers)
            .user_agent(concat!("gemma-desk/", env!("CARGO_PKG_VERSION")));
        if host::is_loopback(&base) {
            b = b.no_proxy(); // a system proxy must not intercept a local server
        }
        let http = b.build().map_err(|e| Error::Other(format!("cannot set up HTTP: {e}")))?;
        Ok(OpenAiClient { base, http, opts, overrides: BTreeMap::new(), ollama: Arc::default() })
    }

    /// A client for what the user typed (`--host`, a setting), with the usual deadlines.
    pub fn connect(raw_host: &str, api_key: Option<&str>) -> Result<Self> {
        let base = base_url(raw_host).map_err(|e| Error::Usage(format!("bad server address: {e}")))?;
        OpenAiClient::new(base, api_key, ClientOptions::from_env())
    }

    /// Capabilities the user set, which win over what is reported or guessed.
    pub fn with_capability_overrides(mut self, overrides: CapabilityOverrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// The base URL as shown to people.
    pub fn host(&self) -> String {
        host::display(&self.base)
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("relative API paths join")
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        Error::unreachable(self.host(), e)
    }

    fn not_openai(&self, detail: String) -> Error {
        Error::NotOllama { host: self.host(), detail }
    }

    /// Turn a non-2xx answer into the matching error, reading the message from any of the error
    /// bodies these servers send.
    async fn check_status(&self, resp: reqwest::Response, model: Option<&str>) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let message = error_message(&body).unwrap_or_else(|| {
            let t = body.trim();
            if t.is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                truncate(t, 200)
            }
        });
        Err(classify(status.as_u16(), message, model, &self.host()))
    }

    /// `GET models`: the ids the server serves, in its order.
    pub async fn model_ids(&self) -> Result<Vec<String>> {
        let resp = self
            .http
            .get(self.url("models"))
            .timeout(self.opts.request_timeout)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, None).await?;
        let text = resp.text().await.map_err(|_| Error::ConnectionCut)?;
        #[derive(Deserialize)]
        struct List {
            // Ollama sends `null` for no models.
            data: Option<Vec<Entry>>,
        }
        #[derive(Deserialize)]
        struct Entry {
            id: String,
        }
        let list: List =
            serde_json::from_str(&text).map_err(|e| self.not_openai(format!("{e}: {}", truncate(&text, 120))))?;
        Ok(list.data.unwrap_or_default().into_iter().map(|m| m.id).collect())
    }

    /// The root of the host (the base without its `v1/`), where Ollama's native API would be.
    fn ollama_root(&self) -> Option<Url> {
        let path = self.base.path();
        let root = path.strip_suffix("v1/")?;
        let mut u = self.base.clone();
        u.set_path(root);
        Some(u)
    }

    /// Ollama's version if the server is Ollama (its `/api/version` answers on the same host).
    /// Asked once per client; any failure means "not Ollama".
    pub async fn ollama_version(&self) -> Option<String> {
        self.ollama
            .get_or_init(|| async {
                let url = self.ollama_root()?.join("api/version").ok()?;
                let resp = self.http.get(url).timeout(self.opts.request_timeout).send().await.ok()?;
                if !resp.status().is_success() {
                    return None;
                }
                let v: Value = resp.json().await.ok()?;
                v.get("version").and_then(Value::as_str).map(str::to_string)
            })
            .await
            .clone()
    }

    /// Ollama's `/api/show` for a model, when the server is Ollama.
    async fn ollama_show(&self, model: &str) -> Result<Option<Value>> {
        if self.ollama_version().await.is_none() {
            return Ok(None);
        }
        let url = self.ollama_root().and_then(|r| r.join("api/show").ok()).expect("checked by ollama_version");
        let resp = self
            .http
            .post(url)
            .timeout(self.opts.request_timeout)
            .json(&json!({ "model": model }))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, Some(model)).await?;
        Ok(resp.json().await.ok())
    }

    /// Whether the capabilities of [`list_models`](Self::list_models) were reported by the server
    /// (it is Ollama) rather than guessed from model names.
    pub async fn capabilities_reported(&self) -> bool {
        self.ollama_version().await.is_some()
    }

    /// What is known about one model: from Ollama's `/api/show` when the server is Ollama, else
    /// guessed from its name; the user's overrides win either way.
    pub async fn model_info(&self, model: &str) -> Result<ModelInfo> {
        let mut info = match self.ollama_show(model).await? {
            Some(show) => crate::client::ollama::model_info_from_show(model, show),
            None => guessed_info(model),
        };
        if let Some(caps) = self.overrides.get(model) {
            info.capabilities = caps.clone();
        }
        Ok(info)
    }

    /// The served models with what each can do (see [`model_info`](Self::model_info)).
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>> {
        let ids = self.model_ids().await?;
        let infos = join_all(ids.iter().map(|id| self.model_info(id))).await;
        // A model whose details cannot be had is still listed, with guessed capabilities.
        Ok(ids.iter().zip(infos).map(|(id, info)| info.unwrap_or_else(|_| guessed_info(id))).collect())
    }

    /// The model to use for a job: the named one, or the best fit among the served models.
    /// A named model is checked before anything is sent only where its capabilities are known
    /// (reported by Ollama, or set by the user); a guess never blocks: the server has the last word.
    pub async fn resolve_model(&self, named: Option<&str>, needs: &[Capability]) -> Result<String> {
        match named {
            Some(name) => {
                if needs.is_empty() {
                    return Ok(name.to_string());
                }
                let known = self.overrides.contains_key(name) || self.capabilities_reported().await;
                if known {
                    let info = self.model_info(name).await?;
                    if let Some(need) = needs.iter().find(|n| !info.can(**n)) {
                        return Err(Error::ModelUnable { model: name.to_string(), what: need.job().into() });
                    }
                }
                Ok(name.to_string())
            }
            None => {
                let models = self.list_models().await?;
                let job =
                    needs.iter().find(|c| **c != Capability::Completion).copied().unwrap_or(Capability::Completion);
                pick_model(&models, needs)
                    .map(|m| m.name.clone())
                    .ok_or_else(|| Error::NoSuitableModel { what: job.job().into() })
            }
        }
    }

    /// Streamed chat over `chat/completions`. `on_delta` gets each piece of text as it arrives; the
    /// whole answer comes back at the end. Dropping the future closes the connection, which is how
    /// the server learns to stop generating.
    pub async fn chat(&self, req: &ChatRequest, mut on_delta: impl FnMut(&str)) -> Result<ChatOutcome> {
        let started = Instant::now();
        let body = chat_body(req);
        // Some servers send no headers until the first token: a model loading counts as silence too.
        let wait = self.opts.first_byte_timeout;
        let sent = self.http.post(self.url("chat/completions")).json(&body).send();
        let resp = tokio::time::timeout(wait, sent)
            .await
            .map_err(|_| Error::Stalled { secs: wait.as_secs().max(1) })?
            .map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, Some(&req.model)).await?;
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if is_json {
            // A server (or proxy) that ignores `stream: true` answers with one completion.
            return self.whole_completion(resp, req, &mut on_delta, started).await;
        }

        let mut events =
            Box::pin(with_deadlines(resp, self.opts.first_byte_timeout, self.opts.idle_timeout).eventsource());
        let mut out = ChatOutcome { model: req.model.clone(), ..Default::default() };
        let mut calls = ToolCallParts::default();
        let mut first_token: Option<Instant> = None;
        let mut server_rate: Option<f64> = None;
        let mut finished = false;
        let mut done = false;
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| match e {
                EventStreamError::Transport(e) => e,
                other => Error::Protocol { detail: other.to_string() },
            })?;
            let data = event.data.trim();
            if data == "[DONE]" {
                done = true;
                break;
            }
            if data.is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(data).map_err(|e| Error::Protocol {
                detail: format!("an event is not JSON ({e}): {}", truncate(data, 120)),
            })?;
            // An error after the stream started comes as an event of its own (OpenAI's convention).
            if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                let message = message_of(err).unwrap_or_else(|| truncate(&err.to_string(), 200));
                return Err(classify_stream_error(message, &req.model));
            }
            let chunk: Chunk = serde_json::from_value(v).map_err(|e| Error::Protocol { detail: e.to_string() })?;
            if let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) {
                if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                    first_token.get_or_insert_with(Instant::now);
                    on_delta(&text);
                    out.content.push_str(&text);
                }
                for part in choice.delta.tool_calls {
                    calls.add(part);
                }
                if let Some(reason) = choice.finish_reason {
                    out.done_reason = Some(reason);
                    finished = true;
                }
            }
            if let Some(u) = chunk.usage {
                out.prompt_tokens = u.prompt_tokens.or(out.prompt_tokens);
                out.completion_tokens = u.completion_tokens.or(out.completion_tokens);
            }
            // llama.cpp's server reports its own speed.
            if let Some(rate) = chunk.timings.and_then(|t| t.predicted_per_second) {
                server_rate = Some(rate);
            }
        }
        // A stream that ends with neither `[DONE]` nor a finish reason was cut short.
        if !done && !finished {
            return Err(Error::ConnectionCut);
        }
        out.tool_calls = calls.finish();
        out.total_duration_ms = Some(started.elapsed().as_millis() as u64);
        out.tokens_per_second = server_rate.or_else(|| rate(out.completion_tokens, first_token));
        Ok(out)
    }

    async fn whole_completion(
        &self,
        resp: reqwest::Response,
        req: &ChatRequest,
        on_delta: &mut impl FnMut(&str),
        started: Instant,
    ) -> Result<ChatOutcome> {
        let text = resp.text().await.map_err(|_| Error::ConnectionCut)?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Protocol { detail: format!("{e}: {}", truncate(&text, 120)) })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(classify_stream_error(message_of(err).unwrap_or_default(), &req.model));
        }
        let choice = v.pointer("/choices/0").ok_or_else(|| Error::Protocol { detail: "no choices".into() })?;
        let mut out = ChatOutcome { model: req.model.clone(), ..Default::default() };
        out.content = choice.pointer("/message/content").and_then(Value::as_str).unwrap_or_default().to_string();
        if !out.content.is_empty() {
            on_delta(&out.content);
        }
        let mut calls = ToolCallParts::default();
        let parts: Vec<ToolCallDelta> = choice
            .pointer("/message/tool_calls")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
            .unwrap_or_default();
        for (i, mut part) in parts.into_iter().enumerate() {
            part.index = Some(i as u64);
            calls.add(part);
        }
        out.tool_calls = calls.finish();
        out.done_reason = choice.get("finish_reason").and_then(Value::as_str).map(str::to_string);
        out.prompt_tokens = v.pointer("/usage/prompt_tokens").and_then(Value::as_u64);
        out.completion_tokens = v.pointer("/usage/completion_tokens").and_then(Value::as_u64);
        out.total_duration_ms = Some(started.elapsed().as_millis() as u64);
        Ok(out)
    }
}

/// Tokens per second from the first token to now.
fn rate(tokens: Option<u64>, first: Option<Instant>) -> Option<f64> {
    let (n, first) = (tokens?, first?);
    let secs = first.elapsed().as_secs_f64();
    (n > 1 && secs > 0.0).then(|| (n - 1) as f64 / secs)
}

/// The response body as a stream of byte chunks, with silence bounded like the NDJSON reader's:
/// `first` until anything arrives (a model may be loading), `idle` between chunks. Timing bytes
/// rather than events means SSE comments (keep-alives) count as signs of life.
fn with_deadlines(
    resp: reqwest::Response,
    first: Duration,
    idle: Duration,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes>> {
    let body = resp.bytes_stream().boxed();
    futures_util::stream::unfold((body, false, false), move |(mut body, got_any, failed)| async move {
        if failed {
            return None;
        }
        let wait = if got_any { idle } else { first };
        match tokio::time::timeout(wait, body.next()).await {
            Err(_) => Some((Err(Error::Stalled { secs: wait.as_secs().max(1) }), (body, got_any, true))),
            Ok(None) => None,
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), (body, true, false))),
            Ok(Some(Err(_))) => Some((Err(Error::ConnectionCut), (body, got_any, true))),
        }
    })
}

/// The message in an error body: OpenAI's `{"error":{"message":…}}`, Ollama's `{"error":"…"}`,
/// FastAPI's `{"detail":…}` (llama-cpp-python, vLLM's validation errors) or a bare `{"message":…}`.
fn error_message(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    for key in ["error", "detail", "message"] {
        if let Some(m) = v.get(key).and_then(message_of) {
            return Some(m);
        }
    }
    None
}

fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Object(o) => o.get("message").or_else(|| o.get("msg")).and_then(message_of),
        // FastAPI's validation errors: a list of {loc, msg, type}.
        Value::Array(items) => {
            let msgs: Vec<String> = items.iter().filter_map(message_of).collect();
            (!msgs.is_empty()).then(|| msgs.join("; "))
        }
        _ => None,
    }
}

/// Map an HTTP error to what it means for the user.
fn classify(status: u16, message: String, model: Option<&str>, host: &str) -> Error {
    let lower = message.to_ascii_lowercase();
    match (status, model) {
        // The endpoint exists; a 404 naming a model is about the model (Ollama: `model "x" not found`,
        // vLLM: "The model `x` does not exist.").
        (404, Some(m)) if lower.contains("model") || lower.contains(&m.to_ascii_lowercase()) => {
            Error::ModelNotFound { model: m.to_string() }
        }
        // Anything else at 404 means the address is not the API (e.g. a base URL without /v1).
        (404, _) => Error::NotOllama { host: host.to_string(), detail: format!("{status} {message}") },
        (429 | 503, _) => Error::Busy { message },
        (_, Some(m)) if refuses_images(&lower) => {
            Error::ModelUnable { model: m.to_string(), what: "see images".into() }
        }
        _ => Error::Server { status, message },
    }
}

/// What servers say when a model cannot take images (Ollama, llama.cpp without a projector, vLLM).
fn refuses_images(lower: &str) -> bool {
    [
        "missing data required for image input",
        "image input is not supported",
        "does not support image",
        "not a multimodal model",
        "multimodal is not supported",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

fn classify_stream_error(message: String, model: &str) -> Error {
    if refuses_images(&message.to_ascii_lowercase()) {
        Error::ModelUnable { model: model.to_string(), what: "see images".into() }
    } else {
        Error::Stream { message }
    }
}

/// The request body. `num_ctx` and `keep_alive` have no place in this API and are left out.
fn chat_body(req: &ChatRequest) -> Value {
    let folded;
    let messages = if is_gemma(&req.model) {
        folded = fold_system(&req.messages);
        &folded
    } else {
        &req.messages
    };
    let mut body = json!({
        "model": req.model,
        "messages": messages_json(messages),
        "stream": true,
        // The token counts come in a last chunk (servers that do not know the option ignore it).
        "stream_options": { "include_usage": true },
    });
    let o = &req.options;
    if let Some(t) = o.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(s) = o.seed {
        body["seed"] = json!(s);
    }
    if let Some(n) = o.num_predict.filter(|n| *n > 0) {
        body["max_tokens"] = json!(n);
    }
    if !o.stop.is_empty() {
        body["stop"] = json!(o.stop);
    }
    if !req.tools.is_empty() {
        body["tools"] = json!(req.tools);
    }
    body
}

/// Gemma has no system role: its own chat template puts the system text at the start of the first
/// user turn, and some servers drop system messages for it instead (llama-cpp-python's `gemma`
/// format), which would lose the ReAct instructions. So for Gemma that folding is done here.
fn fold_system(messages: &[Message]) -> Vec<Message> {
    let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let mut rest: Vec<Message> = messages.iter().filter(|m| m.role != Role::System).cloned().collect();
    if system.is_empty() {
        return rest;
    }
    let system = system.join("\n\n");
    match rest.iter_mut().find(|m| m.role == Role::User) {
        Some(first) => first.content = format!("{system}\n\n{}", first.content),
        None => rest.insert(0, Message::user(system)),
    }
    rest
}

fn is_gemma(model: &str) -> bool {
    name_tokens(model).iter().any(|t| t.starts_with("gemma"))
}

/// Messages in OpenAI's shape. Our tool calls carry no ids, so each gets one from its position,
/// and each `tool` message answers the oldest unanswered call, in order.
fn messages_json(messages: &[Message]) -> Vec<Value> {
    let mut pending: VecDeque<String> = VecDeque::new();
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
            };
            let mut v = json!({ "role": role, "content": content_json(m) });
            if !m.tool_calls.is_empty() {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let id = format!("call_{i}_{j}");
                        pending.push_back(id.clone());
                        let args = match &c.function.arguments {
                            Value::String(s) => s.clone(),
                            Value::Null => "{}".into(),
                            other => other.to_string(),
                        };
                        json!({ "id": id, "type": "function", "function": { "name": c.function.name, "arguments": args } })
                    })
                    .collect();
                v["tool_calls"] = Value::Array(calls);
            }
            if m.role == Role::Tool {
                v["tool_call_id"] = json!(pending.pop_front().unwrap_or_else(|| format!("call_{i}")));
            }
            v
        })
        .collect()
}

/// Text alone as a string; with images, content parts (images first, as Gemma is prompted).
fn content_json(m: &Message) -> Value {
    if m.images.is_empty() {
        return json!(m.content);
    }
    let mut parts: Vec<Value> = m
        .images
        .iter()
        .map(|b64| json!({ "type": "image_url", "image_url": { "url": format!("data:{};base64,{b64}", sniff_mime(b64)) } }))
        .collect();
    if !m.content.is_empty() {
        parts.push(json!({ "type": "text", "text": m.content }));
    }
    Value::Array(parts)
}

/// The image type from the first bytes of its base64 (prepared images are JPEG or PNG).
fn sniff_mime(b64: &str) -> &'static str {
    if b64.starts_with("iVBORw0KGgo") {
        "image/png"
    } else if b64.starts_with("UklGR") {
        "image/webp"
    } else if b64.starts_with("R0lGOD") {
        "image/gif"
    } else {
        "image/jpeg"
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    timings: Option<Timings>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    tool_calls: Vec<ToolCallDelta>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Timings {
    predicted_per_second: Option<f64>,
}

#[derive(Deserialize, Default)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize, Default)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<Value>,
}

/// Tool calls arrive in pieces keyed by `index`: the name once, the arguments as string fragments.
#[derive(Default)]
struct ToolCallParts {
    calls: BTreeMap<u64, (String, String)>,
}

impl ToolCallParts {
    fn add(&mut self, part: ToolCallDelta) {
        let index = part.index.unwrap_or(self.calls.len() as u64);
        let entry = self.calls.entry(index).or_default();
        if let Some(f) = part.function {
            if let Some(name) = f.name.filter(|n| !n.is_empty()) {
                if entry.0.is_empty() {
                    entry.0 = name;
                }
            }
            match f.arguments {
                Some(Value::String(s)) => entry.1.push_str(&s),
                Some(Value::Null) | None => {}
                Some(other) => entry.1.push_str(&other.to_string()),
            }
        }
    }

    fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_values()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, args)| {
                let arguments = if args.trim().is_empty() {
                    json!({})
                } else {
                    // Arguments that are not JSON go to the tool as a string, which reports the problem.
                    serde_json::from_str(&args).unwrap_or(Value::String(args))
                };
                ToolCall { function: ToolCallFunction { name, arguments } }
            })
            .collect()
    }
}

/// A model as far as its name tells: see [`guess_capabilities`].
fn guessed_info(name: &str) -> ModelInfo {
    let tokens = name_tokens(name);
    let gemma3 = gemma3_at(&tokens);
    let size = gemma3.and_then(|at| tokens[at..].iter().find(|t| is_size(t)).map(|t| t.to_ascii_uppercase()));
    ModelInfo {
        name: name.to_string(),
        size: 0,
        family: gemma3.map(|_| "gemma3".to_string()),
        parameter_size: size,
        quantization: None,
        capabilities: guess_capabilities(name),
        context_length: None,
        vision_image_size: None,
    }
}

/// What a model can do, judged by its name alone, for servers that do not say: every model chats;
/// Gemma 3 4b, 12b and 27b see images (270m and 1b do not; a bare "gemma3" is Ollama's 4b); names
/// marking a vision model (`llava`, `vision`, `vl`) see images. Native tools are never assumed.
/// Names take many forms: `gemma3:4b`, `google/gemma-3-12b-it`, `/models/gemma-3-27b-it-Q4_K_M.gguf`.
pub fn guess_capabilities(name: &str) -> Vec<String> {
    let tokens = name_tokens(name);
    let vision = match gemma3_at(&tokens) {
        Some(at) => match tokens[at..].iter().find(|t| is_size(t)) {
            Some(size) => matches!(size.as_str(), "4b" | "12b" | "27b"),
            None => true,
        },
        None => tokens.iter().any(|t| matches!(t.as_str(), "llava" | "vision" | "vl")),
    };
    let mut caps = vec![Capability::Completion.as_str().to_string()];
    if vision {
        caps.push(Capability::Vision.as_str().to_string());
    }
    caps
}

/// The lower-case alphanumeric runs of a model name.
fn name_tokens(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// Where Gemma 3 is named (`gemma3`, or `gemma` then `3`): the index after the name.
fn gemma3_at(tokens: &[String]) -> Option<usize> {
    tokens.iter().enumerate().find_map(|(i, t)| {
        if t == "gemma3" {
            Some(i + 1)
        } else if t == "gemma" && tokens.get(i + 1).is_some_and(|n| n == "3") {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// A parameter count such as `4b` or `270m`.
fn is_size(t: &str) -> bool {
    let (digits, unit) = t.split_at(t.len().saturating_sub(1));
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && matches!(unit, "b" | "m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_from_names() {
        let sees = |n: &str| guess_capabilities(n).contains(&"vision".to_string());
        for n in [
            "gemma3:4b",
            "gemma3:12b-it-qat",
            "google/gemma-3-27b-it",
            "/m/gemma-3-4b-it-Q4_K_M.gguf",
            "gemma3",
            "llava:7b",
            "Qwen2.5-VL-7B",
        ] {
            assert!(sees(n), "{n}");
        }
        for n in ["gemma3:1b", "gemma3:270m", "unsloth/gemma-3-270m-it-GGUF", "gemma2:9b", "llama3.2", "gemma-3n-e4b"] {
            assert!(!sees(n), "{n}");
        }
        assert!(guess_capabilities("anything").contains(&"completion".to_string()));
        let info = guessed_info("google/gemma-3-12b-it");
        assert_eq!((info.family.as_deref(), info.parameter_size.as_deref()), (Some("gemma3"), Some("12B")));
    }

    #[test]
    fn base_urls() {
        assert_eq!(base_url("http://h:8000").unwrap().as_str(), "http://h:8000/v1/");
        assert_eq!(base_url("h:8000/v1").unwrap().as_str(), "http://h:8000/v1/");
        assert_eq!(base_url("https://x.io/api/v1/").unwrap().as_str(), "https://x.io/api/v1/");
        assert!(base_url("ftp://h").is_err());
    }

    #[test]
    fn error_bodies_in_every_shape() {
        assert_eq!(error_message(r#"{"error":{"message":"bad key","type":"x"}}"#).unwrap(), "bad key");
        assert_eq!(error_message(r#"{"error":"model \"x\" not found"}"#).unwrap(), "model \"x\" not found");
        assert_eq!(error_message(r#"{"detail":"Not Found"}"#).unwrap(), "Not Found");
        assert_eq!(
            error_message(r#"{"detail":[{"msg":"field required"},{"msg":"bad"}]}"#).unwrap(),
            "field required; bad"
        );
        assert_eq!(error_message("plain text"), None);
    }

    #[test]
    fn classification() {
        assert!(matches!(classify(404, "model \"m\" not found".into(), Some("m"), "h"), Error::ModelNotFound { .. }));
        assert!(matches!(classify(404, "404 page not found".into(), Some("m"), "h"), Error::NotOllama { .. }));
        assert!(matches!(classify(404, "Not Found".into(), None, "h"), Error::NotOllama { .. }));
        assert!(matches!(classify(503, "busy".into(), Some("m"), "h"), Error::Busy { .. }));
        assert!(matches!(
            classify(500, "image input is not supported - hint: …mmproj".into(), Some("m"), "h"),
            Error::ModelUnable { .. }
        ));
        assert!(matches!(
            classify(401, "Incorrect API key provided".into(), None, "h"),
            Error::Server { status: 401, .. }
        ));
    }

    #[test]
    fn tool_messages_answer_the_calls_in_order() {
        let mut a = Message::assistant("");
        a.tool_calls = vec![
            ToolCall { function: ToolCallFunction { name: "f".into(), arguments: json!({"x": 1}) } },
            ToolCall { function: ToolCallFunction { name: "g".into(), arguments: json!({}) } },
        ];
        let msgs = vec![Message::user("q"), a, Message::new(Role::Tool, "r1"), Message::new(Role::Tool, "r2")];
        let v = messages_json(&msgs);
        assert_eq!(v[1]["tool_calls"][0]["function"]["arguments"], "{\"x\":1}");
        assert_eq!(v[2]["tool_call_id"], v[1]["tool_calls"][0]["id"]);
        assert_eq!(v[3]["tool_call_id"], v[1]["tool_calls"][1]["id"]);
    }

    #[test]
    fn gemma_gets_its_system_text_in_the_first_user_turn() {
        let msgs = vec![Message::system("Rules."), Message::user("q"), Message::assistant("a"), Message::user("q2")];
        let body = chat_body(&ChatRequest::new("gemma3:4b", msgs.clone()));
        let roles: Vec<_> = body["messages"].as_array().unwrap().iter().map(|m| m["role"].clone()).collect();
        assert_eq!(roles, [json!("user"), json!("assistant"), json!("user")]);
        assert_eq!(body["messages"][0]["content"], "Rules.\n\nq");
        // Other models keep their system role.
        let body = chat_body(&ChatRequest::new("qwen3:0.6b", msgs));
        assert_eq!(body["messages"][0], json!({"role": "system", "content": "Rules."}));
        let only = fold_system(&[Message::system("s")]);
        assert_eq!((only[0].role, only[0].content.as_str()), (Role::User, "s"));
    }

    #[test]
    fn images_become_data_uris() {
        let mut m = Message::user("what is this?");
        m.images = vec!["/9j/4AAQ".into(), "iVBORw0KGgoAAA".into()];
        let v = content_json(&m);
        assert_eq!(v[0]["image_url"]["url"], "data:image/jpeg;base64,/9j/4AAQ");
        assert_eq!(v[1]["image_url"]["url"], "data:image/png;base64,iVBORw0KGgoAAA");
        assert_eq!(v[2], json!({"type": "text", "text": "what is this?"}));
    }

    #[test]
    fn streamed_tool_call_pieces_are_joined() {
        let mut parts = ToolCallParts::default();
        let piece = |name: Option<&str>, args: &str| ToolCallDelta {
            index: Some(0),
            function: Some(FunctionDelta { name: name.map(String::from), arguments: Some(json!(args)) }),
        };
        parts.add(piece(Some("weekday"), "{\"year\": 20"));
        parts.add(piece(None, "25}"));
        let calls = parts.finish();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].function.name, "weekday");
        assert_eq!(calls[0].function.arguments, json!({"year": 2025}));
    }
}
