//! What the app keeps between commands: settings, the client for the server in use, the photos attached, and the
//! work the page can stop.

use crate::tasks::Tasks;
use gemma_desk_core::agent::AnswerRequest;
use gemma_desk_core::audio::PreparedAudio;
use gemma_desk_core::images::PreparedImage;
use gemma_desk_core::settings::{ApiKeys, ServerConfig, Settings, SettingsStore};
use gemma_desk_core::store::Store;
use gemma_desk_core::Backend;
use gemma_desk_core::{Error, Lang, Message, OllamaClient, Role, Think};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

/// The language in effect (chosen, else the system's), kept apart from the settings' lock. A process-wide atomic
/// rather than a field: errors are put into words where no state is at hand (`?` converting into
/// [`CmdError`](crate::error::CmdError), and its `Serialize`). [`AppState`] is its only writer.
static LANG: AtomicU8 = AtomicU8::new(0);

/// The language the page is in now, for messages made in Rust.
pub fn lang() -> Lang {
    match LANG.load(Ordering::Relaxed) {
        0 => Lang::En,
        _ => Lang::Zh,
    }
}

fn set_lang(lang: Lang) {
    LANG.store(lang as u8, Ordering::Relaxed);
}

/// What the page chose for one answer besides the model: tools, thinking, and (for Gemma 4) the image budget the
/// server is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnswerChoices {
    pub tools: bool,
    pub think: Think,
    pub image_max_tokens: Option<u32>,
}

pub struct AppState {
    store: SettingsStore,
    /// The conversations' database; an error when it could not be opened (shown, and every
    /// conversation command says it).
    conversations: Result<Store, Error>,
    pub settings: Mutex<Settings>,
    /// Set when the saved settings could not be read; shown once in the UI.
    pub settings_warning: Option<String>,
    pub system_lang: Lang,
    /// Answers, caption questions and downloads in flight, so that Stop can cancel them.
    pub tasks: Tasks,
    /// Prepared photos by id: the webview refers to them, never to files.
    attachments: Mutex<HashMap<String, PreparedImage>>,
    /// Audio clips for the next message, beside the photos (ids `clip-N`).
    clips: Mutex<HashMap<String, PreparedAudio>>,
    next_attachment: AtomicU64,
    /// The client for the server in use, kept while that server's settings stay the same: a new client per
    /// answer meant a new connection (and a keychain read) each time, ~7–10 ms before the first token.
    backend: Mutex<Option<(ServerConfig, Backend)>>,
}

impl AppState {
    pub fn load(dir: &Path, data_dir: &Path) -> Self {
        let store = SettingsStore::new(dir);
        let conversations = Store::open(data_dir);
        let (settings, settings_warning) = store.load();
        let system_lang = sys_locale::get_locale().map(|l| Lang::from_locale(&l)).unwrap_or_default();
        set_lang(settings.language.unwrap_or(system_lang));
        AppState {
            store,
            conversations,
            settings: Mutex::new(settings),
            settings_warning,
            system_lang,
            tasks: Tasks::default(),
            attachments: Mutex::new(HashMap::new()),
            clips: Mutex::new(HashMap::new()),
            next_attachment: AtomicU64::new(1),
            backend: Mutex::new(None),
        }
    }

    pub fn conversations(&self) -> Result<&Store, Error> {
        self.conversations.as_ref().map_err(Clone::clone)
    }

    /// Why conversations cannot be saved (could not open, or a newer app's read-only file), if so.
    pub fn storage_problem(&self) -> Option<Error> {
        match &self.conversations {
            Ok(store) => store.read_only(),
            Err(e) => Some(e.clone()),
        }
    }

    /// A prepared photo, to be saved with the message that carries it.
    pub fn attachment(&self, id: &str) -> Option<PreparedImage> {
        self.attachments.lock().unwrap().get(id).cloned()
    }

    pub fn add_attachment(&self, image: PreparedImage) -> String {
        let id = format!("img-{}", self.next_attachment.fetch_add(1, Ordering::Relaxed));
        self.attachments.lock().unwrap().insert(id.clone(), image);
        id
    }

    /// The base64 of an attached photo, as sent to the model.
    pub fn attachment_base64(&self, id: &str) -> Option<String> {
        self.attachments.lock().unwrap().get(id).map(|p| p.base64.clone())
    }

    pub fn clip(&self, id: &str) -> Option<PreparedAudio> {
        self.clips.lock().unwrap().get(id).cloned()
    }

    pub fn add_clip(&self, clip: PreparedAudio) -> String {
        let id = format!("clip-{}", self.next_attachment.fetch_add(1, Ordering::Relaxed));
        self.clips.lock().unwrap().insert(id.clone(), clip);
        id
    }

    /// Takes a photo or a clip out of the next message.
    pub fn remove_attachment(&self, id: &str) -> bool {
        self.clips.lock().unwrap().remove(id).is_some() || self.attachments.lock().unwrap().remove(id).is_some()
    }

    pub fn lang(&self) -> Lang {
        lang()
    }

    /// How to ask `model` (with tools or not) about some messages: with the user's options for it (system prompt
    /// first, temperature, context length, keep-alive) and the UI's language, as they are now. A function of the
    /// messages, because a saved turn reads them from the store once it has started.
    pub fn answer_request(
        &self,
        model: String,
        choices: AnswerChoices,
    ) -> impl FnOnce(Vec<Message>) -> AnswerRequest + Send + 'static {
        let options = self.settings.lock().unwrap().model_options.get(&model).cloned().unwrap_or_default();
        let lang = self.lang();
        move |mut messages| {
            if let Some(system) = options.system_prompt {
                if !messages.iter().any(|m| m.role == Role::System) {
                    messages.insert(0, Message::system(system));
                }
            }
            let mut request = AnswerRequest::new(model, messages);
            request.options.temperature = options.temperature;
            request.options.num_ctx = options.num_ctx;
            request.keep_alive = options.keep_alive;
            request.lang = lang;
            request.tools = choices.tools;
            request.think = choices.think;
            request.options.image_max_tokens = choices.image_max_tokens;
            request
        }
    }

    /// The server in use now (the default one), with its API key from the keychain. The client is made
    /// again when the server's settings change, so a change applies at once.
    pub fn backend(&self) -> Result<Backend, Error> {
        let server = self.settings.lock().unwrap().current_server();
        let mut cached = self.backend.lock().unwrap();
        if let Some((config, backend)) = cached.as_ref() {
            if *config == server {
                return Ok(backend.clone());
            }
        }
        let backend = server.connect(&ApiKeys::default())?;
        *cached = Some((server, backend.clone()));
        Ok(backend)
    }

    /// The server in use, when it is an Ollama: pulling, deleting and model details are Ollama's
    /// own API, which OpenAI-compatible servers do not have.
    pub fn client(&self) -> Result<OllamaClient, Error> {
        match self.backend()? {
            Backend::Ollama(c) => Ok(c),
            Backend::OpenAi(_) => Err(Error::Usage(
                self.lang()
                    .pick(
                        "This server is OpenAI-compatible: models are managed on the server itself. Choose an Ollama server in Settings to pull or delete models.",
                        "此服务器是 OpenAI 兼容服务器：模型需在服务器上管理。要下载或删除模型，请在“设置”中选择 Ollama 服务器。",
                    )
                    .into(),
            )),
        }
    }

    /// Change settings and write them to disk; the change is kept in memory even if the write fails.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<(), Error> {
        let snapshot = {
            let mut s = self.settings.lock().unwrap();
            change(&mut s);
            set_lang(s.language.unwrap_or(self.system_lang));
            s.clone()
        };
        // An API key may have changed with them (it is not in the settings).
        *self.backend.lock().unwrap() = None;
        self.store
            .save(&snapshot)
            .map_err(|e| Error::Other(format!("cannot save settings to {}: {e}", self.store.path().display())))
    }
}
