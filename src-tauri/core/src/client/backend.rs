//! One type for "the server": Ollama's native API or an OpenAI-compatible one, so that the agent,
//! captioning, the CLI and the app do not care which kind they talk to.

use crate::chat::{ChatOutcome, ChatRequest, Piece};
use crate::client::host;
use crate::client::ollama::OllamaClient;
use crate::client::openai::OpenAiClient;
use crate::error::{Error, ErrorReport, Result};
use crate::i18n::Lang;
use crate::images::{Detail, PrepareOptions};
use crate::models::{Capability, ModelInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of server, as settings and the CLI's `--api` name them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServerKind {
    #[default]
    #[serde(rename = "ollama")]
    Ollama,
    #[serde(rename = "openai")]
    OpenAi,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Ollama => "ollama",
            ServerKind::OpenAi => "openai",
        }
    }

    /// What went wrong with `e`, naming this kind of server: the same errors arise from an
    /// OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's /v1), where "Ollama" would mislead.
    /// This wording lives with the kinds of server so that `error` needs nothing from the client.
    pub fn message(self, e: &Error, lang: Lang) -> String {
        if self == ServerKind::Ollama {
            return e.message(lang);
        }
        let zh = lang == Lang::Zh;
        match e {
            Error::Unreachable { host, detail } if zh => format!("无法连接到 {host} 上的服务器：{detail}"),
            Error::Unreachable { host, detail } => format!("cannot reach the server at {host}: {detail}"),
            Error::NotOllama { host, detail } if zh => {
                format!("{host} 上的服务器看起来不是 OpenAI 兼容的 API：{detail}")
            }
            Error::NotOllama { host, detail } => {
                format!("the server at {host} does not look like an OpenAI-compatible API: {detail}")
            }
            Error::Busy { message } if zh => format!("服务器正忙：{message}"),
            Error::Busy { message } => format!("the server is busy: {message}"),
            Error::Server { status, message } if zh => format!("服务器返回 {status}：{message}"),
            Error::Server { status, message } => format!("the server answered {status}: {message}"),
            Error::Stream { message } if zh => format!("服务器中途出错：{message}"),
            Error::Stream { message } => format!("the server stopped with an error: {message}"),
            Error::ConnectionCut if zh => "回答还没完成，与服务器的连接就断开了".into(),
            Error::ConnectionCut => "the connection to the server was cut before the answer was complete".into(),
            Error::Stalled { secs } if zh => format!("服务器已经 {secs} 秒没有发送任何内容"),
            Error::Stalled { secs } => format!("the server sent nothing for {secs} s"),
            Error::Protocol { detail } if zh => format!("服务器的回复无法识别：{detail}"),
            Error::Protocol { detail } => format!("unexpected reply from the server: {detail}"),
            _ => e.message(lang),
        }
    }

    /// What to do next after `e`, for this kind of server.
    pub fn hint(self, e: &Error, lang: Lang) -> Option<String> {
        if self == ServerKind::Ollama {
            return e.hint(lang);
        }
        let s = match e {
            Error::Unreachable { .. } => lang.pick(
                "Check that the server is running and that the address is its API's base URL (usually ending in /v1).",
                "请确认服务器正在运行，并且地址是其 API 的基础 URL（通常以 /v1 结尾）。",
            ),
            Error::NotOllama { .. } => lang.pick(
                "Check the address: it should be the server's OpenAI-compatible API (usually ending in /v1).",
                "请检查地址：它应指向服务器的 OpenAI 兼容 API（通常以 /v1 结尾）。",
            ),
            Error::ModelNotFound { .. } => lang.pick(
                "Choose one of the server's models (`gemma-desk-cli --api openai --host URL models` lists them).",
                "请选择服务器上已有的模型（`gemma-desk-cli --api openai --host URL models` 可列出）。",
            ),
            Error::ModelUnable { what, .. } if what == "think" => return e.hint(lang),
            Error::ModelUnable { .. } | Error::NoSuitableModel { .. } => lang.pick(
                "Choose a model that can (Gemma 3 4b, 12b and 27b see images; the server must be started with the model's vision projector).",
                "请选择具备该能力的模型（Gemma 3 的 4b、12b、27b 能看图；服务器需加载该模型的视觉投影文件）。",
            ),
            Error::ConnectionCut | Error::Stream { .. } => lang.pick(
                "The partial answer is kept. Try again; if it keeps happening, check the server's log.",
                "已保留部分回答。请重试；如果反复出现，请查看服务器的日志。",
            ),
            Error::Stalled { .. } => lang.pick(
                "The server may be overloaded or stuck. Try again, or restart it.",
                "服务器可能过载或卡住了。请重试，或重启服务器。",
            ),
            Error::Server { status: 401 | 403, .. } => lang.pick(
                "The server refused the request: check the API key (in Settings, or --api-key / GEMMA_DESK_API_KEY in a terminal).",
                "服务器拒绝了请求：请检查 API 密钥（在“设置”中，或在终端中用 --api-key / GEMMA_DESK_API_KEY）。",
            ),
            Error::Server { status, .. } if *status >= 500 => lang.pick(
                "The server failed while answering. Try again; if it keeps happening, check the server's log.",
                "服务器在回答时出错。请重试；如果反复出现，请查看服务器的日志。",
            ),
            _ => return e.hint(lang),
        };
        Some(s.to_string())
    }

    pub fn report(self, e: &Error, lang: Lang) -> ErrorReport {
        ErrorReport { kind: e.kind(), message: self.message(e, lang), hint: self.hint(e, lang) }
    }
}

#[derive(Clone)]
pub enum Backend {
    Ollama(OllamaClient),
    OpenAi(OpenAiClient),
}

impl From<OllamaClient> for Backend {
    fn from(c: OllamaClient) -> Self {
        Backend::Ollama(c)
    }
}

impl From<OpenAiClient> for Backend {
    fn from(c: OpenAiClient) -> Self {
        Backend::OpenAi(c)
    }
}

/// What a connection test (and the status bar) shows.
#[derive(Debug, Clone, Serialize)]
pub struct BackendStatus {
    pub kind: ServerKind,
    pub host: String,
    /// Ollama's version, when the server is Ollama (natively or behind `/v1`).
    pub version: Option<String>,
    pub models: Vec<ModelInfo>,
    /// True when the server does not report what models can do and `capabilities` are guessed
    /// from model names (see `models::guess_capabilities`): the UI should say so.
    pub capabilities_guessed: bool,
    /// Plain `http://` to another machine: prompts, photos and any API key cross the network unencrypted.
    pub insecure: bool,
}

/// How the ReAct loop hands the model its own earlier steps (see `agent::run_react`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scratchpad {
    /// A trailing assistant message that the server continues (Ollama's native API does).
    ContinueAssistant,
    /// Finished turns: the model's step as an assistant message, the tool's result as a user
    /// message. For servers that close a trailing assistant turn and start a new one.
    Turns,
}

/// True for `http://` to a host that is not this machine.
pub fn is_insecure_remote(url: &url::Url) -> bool {
    url.scheme() == "http" && !host::is_loopback(url)
}

impl Backend {
    pub fn kind(&self) -> ServerKind {
        match self {
            Backend::Ollama(_) => ServerKind::Ollama,
            Backend::OpenAi(_) => ServerKind::OpenAi,
        }
    }

    /// The address as shown to people.
    pub fn host(&self) -> String {
        match self {
            Backend::Ollama(c) => c.host(),
            Backend::OpenAi(c) => c.host(),
        }
    }

    /// See [`BackendStatus::insecure`].
    pub fn insecure(&self) -> bool {
        match self {
            // The Ollama client keeps its URL private; its display form parses back.
            Backend::Ollama(c) => url::Url::parse(&c.host()).is_ok_and(|u| is_insecure_remote(&u)),
            Backend::OpenAi(c) => is_insecure_remote(c.base()),
        }
    }

    /// A connection test: reach the server and list its models.
    pub async fn status(&self) -> Result<BackendStatus> {
        let insecure = self.insecure();
        match self {
            Backend::Ollama(c) => {
                let s = c.status().await?;
                Ok(BackendStatus {
                    kind: ServerKind::Ollama,
                    host: s.host,
                    version: Some(s.version),
                    models: s.models,
                    capabilities_guessed: false,
                    insecure,
                })
            }
            Backend::OpenAi(c) => {
                let models = c.list_models().await?;
                let version = c.ollama_version().await;
                Ok(BackendStatus {
                    kind: ServerKind::OpenAi,
                    host: c.host(),
                    capabilities_guessed: version.is_none(),
                    version,
                    models,
                    insecure,
                })
            }
        }
    }

    pub async fn list_models(&self) -> Result<Vec<ModelInfo>> {
        match self {
            Backend::Ollama(c) => c.list_models().await,
            Backend::OpenAi(c) => c.list_models().await,
        }
    }

    /// Streamed chat, the answer's text only; dropping the future closes the connection and stops generation.
    pub async fn chat(&self, req: &ChatRequest, on_delta: impl FnMut(&str)) -> Result<ChatOutcome> {
        match self {
            Backend::Ollama(c) => c.chat(req, on_delta).await,
            Backend::OpenAi(c) => c.chat(req, on_delta).await,
        }
    }

    /// Streamed chat, thinking and text; dropping the future closes the connection and stops generation.
    pub async fn chat_stream(&self, req: &ChatRequest, on_piece: impl FnMut(Piece<'_>)) -> Result<ChatOutcome> {
        match self {
            Backend::Ollama(c) => c.chat_stream(req, on_piece).await,
            Backend::OpenAi(c) => c.chat_stream(req, on_piece).await,
        }
    }

    /// The named model, checked to be able to do every job in `needs` where that can be known, or
    /// the best fit when none is named.
    pub async fn resolve_model(&self, named: Option<&str>, needs: &[Capability]) -> Result<String> {
        match self {
            Backend::Ollama(c) => c.resolve_model(named, needs).await,
            Backend::OpenAi(c) => c.resolve_model(named, needs).await,
        }
    }

    /// What the server says of one model (Ollama's `/api/show`; for an OpenAI-compatible server, see
    /// `OpenAiClient::model_info`), or `None` when it cannot be asked.
    async fn model_info(&self, model: &str) -> Option<ModelInfo> {
        match self {
            Backend::Ollama(c) => Some(ModelInfo::named(model).with_show(Some(&c.show(model).await.ok()?))),
            Backend::OpenAi(c) => c.model_info(model).await.ok(),
        }
    }

    /// The side of the square the model's vision encoder sees, where the server says.
    pub async fn vision_image_size(&self, model: &str) -> Option<u32> {
        self.model_info(model).await?.vision_image_size
    }

    /// How photos are prepared for `model` at `detail` (see [`ModelInfo::prepare_options`]); Gemma 3's 896 px
    /// when the server cannot say.
    pub async fn prepare_options(&self, model: &str, detail: Detail) -> PrepareOptions {
        self.model_info(model).await.unwrap_or_else(|| ModelInfo::named(model)).prepare_options(detail)
    }

    /// Whether `tools` may be sent for this model. Ollama answers 400 to tools for a model without
    /// the capability, so only a reported (or user-set) capability counts; a guess never does.
    pub async fn supports_native_tools(&self, model: &str) -> Result<bool> {
        self.model_can(model, Capability::Tools).await
    }

    /// How many tokens `model`'s context holds: what Ollama runs it with now (`/api/ps`), else `num_ctx` (the
    /// user's setting for it), else nothing known. OpenAI-compatible servers fix it on their side and do not say.
    pub async fn context_window(&self, model: &str, num_ctx: Option<u32>) -> Option<u64> {
        match self {
            Backend::Ollama(c) => c.context_in_use(model).await.ok().flatten().or(num_ctx.map(u64::from)),
            Backend::OpenAi(_) => None,
        }
    }

    /// Audio goes only to a model that hears: checked before anything is read or sent where the server says what
    /// its models can do (a guess from a name never blocks), naming the installed models that can.
    pub async fn check_hears(&self, model: &str) -> Result<()> {
        match self.resolve_model(Some(model), &[Capability::Audio]).await {
            Err(Error::ModelUnable { .. }) => {
                let models = self.list_models().await.unwrap_or_default();
                let hearing = models.into_iter().filter(|m| m.can(Capability::Audio)).map(|m| m.name).collect();
                Err(Error::CannotHear { model: model.to_string(), hearing })
            }
            other => other.map(|_| ()),
        }
    }

    /// Whether `model` can do `cap`, as the server reports it (Ollama's `/api/show`), or for an
    /// OpenAI-compatible server as its Ollama behind reports, the user set, or the name tells (never
    /// native tools: see [`guess_capabilities`](crate::models::guess_capabilities)).
    pub async fn model_can(&self, model: &str, cap: Capability) -> Result<bool> {
        match self {
            Backend::Ollama(c) => {
                let show = c.show(model).await?;
                Ok(show
                    .get("capabilities")
                    .and_then(Value::as_array)
                    .is_some_and(|caps| caps.iter().any(|c| c.as_str() == Some(cap.as_str()))))
            }
            Backend::OpenAi(c) => Ok(c.model_info(model).await?.can(cap)),
        }
    }

    pub fn scratchpad(&self) -> Scratchpad {
        match self {
            Backend::Ollama(_) => Scratchpad::ContinueAssistant,
            Backend::OpenAi(_) => Scratchpad::Turns,
        }
    }
}

impl Backend {
    /// A backend for an address as typed (`--host`, a setting). For Ollama, none means
    /// `OLLAMA_HOST` or the default; for an OpenAI-compatible server, none means the local
    /// Ollama's `/v1`. An API key is sent as a Bearer token; Ollama's native API takes none.
    pub fn connect(kind: ServerKind, host: Option<&str>, api_key: Option<&str>) -> Result<Backend> {
        match kind {
            ServerKind::Ollama => Ok(Backend::Ollama(OllamaClient::connect(host)?)),
            ServerKind::OpenAi => {
                let resolved =
                    host::resolve_host(host).map_err(|e| Error::Usage(format!("bad server address: {e}")))?;
                let client = OpenAiClient::connect(resolved.as_str(), api_key)?;
                Ok(Backend::OpenAi(client))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_servers_are_not_called_ollama() {
        let e = Error::Unreachable { host: "http://h:8000/v1".into(), detail: "refused".into() };
        assert_eq!(ServerKind::Ollama.message(&e, Lang::En), e.message(Lang::En));
        assert_eq!(ServerKind::OpenAi.message(&e, Lang::En), "cannot reach the server at http://h:8000/v1: refused");
        for err in [
            e.clone(),
            Error::Server { status: 500, message: "x".into() },
            Error::Busy { message: "x".into() },
            Error::ConnectionCut,
            Error::Stalled { secs: 3 },
            Error::Stream { message: "x".into() },
            Error::NotOllama { host: "h".into(), detail: "d".into() },
            Error::ModelNotFound { model: "m".into() },
        ] {
            for lang in [Lang::En, Lang::Zh] {
                let text = format!(
                    "{} {}",
                    ServerKind::OpenAi.message(&err, lang),
                    ServerKind::OpenAi.hint(&err, lang).unwrap_or_default()
                );
                assert!(!text.contains("Ollama") && !text.contains("ollama pull"), "{text}");
            }
        }
        let denied = Error::Server { status: 401, message: "Incorrect API key provided".into() };
        assert!(ServerKind::OpenAi.hint(&denied, Lang::En).unwrap().contains("API key"));
        assert!(Error::Keychain("no D-Bus".into()).hint(Lang::Zh).unwrap().contains("GEMMA_DESK_API_KEY"));
    }
}
