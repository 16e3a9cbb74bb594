//! One type for "the server": Ollama's native API or an OpenAI-compatible one, so that the agent,
//! captioning, the CLI and the app do not care which kind they talk to.

use crate::chat::{ChatOutcome, ChatRequest};
use crate::client::host;
use crate::client::ollama::OllamaClient;
use crate::client::openai::OpenAiClient;
use crate::error::{Error, Result};
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
    /// from model names (see `openai::guess_capabilities`): the UI should say so.
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

    /// Streamed chat; dropping the future closes the connection and stops generation.
    pub async fn chat(&self, req: &ChatRequest, on_delta: impl FnMut(&str)) -> Result<ChatOutcome> {
        match self {
            Backend::Ollama(c) => c.chat(req, on_delta).await,
            Backend::OpenAi(c) => c.chat(req, on_delta).await,
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

    /// The side of the square the model's vision encoder sees, where the server says.
    pub async fn vision_image_size(&self, model: &str) -> Option<u32> {
        match self {
            Backend::Ollama(c) => c.vision_image_size(model).await,
            Backend::OpenAi(c) => c.model_info(model).await.ok()?.vision_image_size,
        }
    }

    /// Whether `tools` may be sent for this model. Ollama answers 400 to tools for a model without
    /// the capability, so only a reported (or user-set) capability counts; a guess never does.
    pub async fn supports_native_tools(&self, model: &str) -> Result<bool> {
        match self {
            Backend::Ollama(c) => {
                let show = c.show(model).await?;
                Ok(show
                    .get("capabilities")
                    .and_then(Value::as_array)
                    .is_some_and(|caps| caps.iter().any(|c| c.as_str() == Some(Capability::Tools.as_str()))))
            }
            Backend::OpenAi(c) => Ok(c.model_info(model).await?.can(Capability::Tools)),
        }
    }

    pub fn scratchpad(&self) -> Scratchpad {
        match self {
            Backend::Ollama(_) => Scratchpad::ContinueAssistant,
            Backend::OpenAi(_) => Scratchpad::Turns,
        }
    }

    /// Errors in the user's language, naming this kind of server.
    pub fn describe(&self, e: &Error, lang: crate::Lang) -> crate::error::ErrorReport {
        e.report_for(lang, self.kind())
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
