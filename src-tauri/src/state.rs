//! What the app keeps between commands: settings, the Ollama client for the chosen host, and
//! the answers being streamed (so that Stop can cancel them).

use gemma_desk_core::settings::{Settings, SettingsStore};
use gemma_desk_core::{Error, Lang, OllamaClient};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use tokio::task::AbortHandle;

pub struct AppState {
    store: SettingsStore,
    pub settings: Mutex<Settings>,
    /// Set when the saved settings could not be read; shown once in the UI.
    pub settings_warning: Option<String>,
    pub system_lang: Lang,
    /// Answers in flight, by the id the webview gave them.
    pub running: Mutex<HashMap<String, AbortHandle>>,
}

impl AppState {
    pub fn load(dir: &Path) -> Self {
        let store = SettingsStore::new(dir);
        let (settings, settings_warning) = store.load();
        let system_lang = sys_locale::get_locale().map(|l| Lang::from_locale(&l)).unwrap_or_default();
        AppState {
            store,
            settings: Mutex::new(settings),
            settings_warning,
            system_lang,
            running: Mutex::new(HashMap::new()),
        }
    }

    pub fn lang(&self) -> Lang {
        self.settings.lock().unwrap().language.unwrap_or(self.system_lang)
    }

    /// A client for the host in effect now. Cheap: made per call so a changed host applies at once.
    pub fn client(&self) -> Result<OllamaClient, Error> {
        let host = self.settings.lock().unwrap().host.clone();
        OllamaClient::connect(host.as_deref())
    }

    /// Change settings and write them to disk; the change is kept in memory even if the write fails.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<(), Error> {
        let snapshot = {
            let mut s = self.settings.lock().unwrap();
            change(&mut s);
            s.clone()
        };
        self.store
            .save(&snapshot)
            .map_err(|e| Error::Other(format!("cannot save settings to {}: {e}", self.store.path().display())))
    }
}
