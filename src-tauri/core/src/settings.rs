//! Settings the user chose, kept as JSON in the app's data folder. Writes are atomic (a crash
//! mid-write leaves the old file), fields this version does not know are kept, and a file that
//! cannot be read is moved aside rather than overwritten.
//!
//! Servers: any number, each Ollama or OpenAI-compatible, one of them the default. A settings file
//! from before servers existed (just `host`) means one Ollama server at that host. API keys are
//! never in this file: they live in the OS keychain ([`ApiKeys`]), and the file only records that
//! a server has one.

use crate::client::backend::{Backend, ServerKind};
use crate::client::openai::CapabilityOverrides;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The Ollama server of settings written before `servers` existed; `None` means `OLLAMA_HOST`
    /// or the default. Read only while `servers` is empty (see [`Settings::servers`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The servers the user added, in the order shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerConfig>,
    /// The `id` of the server in use; `None` (or an unknown id) means the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_server: Option<String>,
    /// `None` follows the system's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
    /// The model last chosen in the picker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Per model (by name): system prompt, temperature, context length, keep-alive.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub model_options: std::collections::BTreeMap<String, ModelOptions>,
    /// Leave cloud models (Ollama's `-cloud`, which run on ollama.com) out of the model picker.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_cloud_models: bool,
    /// Whatever a newer version wrote: carried through untouched.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One server the user added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// Stable and never shown: names the keychain entry and the default, so renaming keeps both.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kind: ServerKind,
    /// As the user typed it. Empty for Ollama means `OLLAMA_HOST` or the default; an OpenAI-compatible
    /// address without a path gets `/v1`.
    #[serde(default)]
    pub base_url: String,
    /// Whether an API key for this server is in the OS keychain (the key itself never is in this file).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_api_key: bool,
    /// What models can do, set by the user, over what the server reports or its names suggest.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub capabilities: CapabilityOverrides,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The id of the server that stands for a settings file with only `host`.
pub const LEGACY_SERVER_ID: &str = "ollama";

impl ServerConfig {
    pub fn new(id: impl Into<String>, name: impl Into<String>, kind: ServerKind, base_url: impl Into<String>) -> Self {
        ServerConfig {
            id: id.into(),
            name: name.into(),
            kind,
            base_url: base_url.into(),
            has_api_key: false,
            capabilities: Default::default(),
            extra: Default::default(),
        }
    }

    fn host(&self) -> Option<&str> {
        Some(self.base_url.trim()).filter(|h| !h.is_empty())
    }

    /// The address as it will be used, or why it cannot be.
    pub fn url(&self) -> Result<url::Url> {
        let parsed = match self.kind {
            ServerKind::Ollama => crate::client::host::resolve_host(self.host()),
            ServerKind::OpenAi => {
                crate::client::host::resolve_host(self.host()).and_then(|u| crate::client::openai::base_url(u.as_str()))
            }
        };
        parsed.map_err(|e| Error::Usage(format!("bad address for server \"{}\": {e}", self.name)))
    }

    /// Plain `http://` to another machine: the UI should warn that prompts, photos and the key
    /// travel unencrypted.
    pub fn insecure(&self) -> bool {
        self.url().is_ok_and(|u| crate::client::backend::is_insecure_remote(&u))
    }

    /// A backend for this server, with its key from the keychain when it has one. A keychain that
    /// cannot be used is an error (`Error::Keychain`), never a silent request without the key.
    pub fn connect(&self, keys: &ApiKeys) -> Result<Backend> {
        let key = if self.has_api_key && self.kind == ServerKind::OpenAi { keys.get(&self.id)? } else { None };
        self.url()?; // the address is checked the same way for both kinds
        match Backend::connect(self.kind, self.host(), key.as_deref())? {
            Backend::OpenAi(c) => Ok(Backend::OpenAi(c.with_capability_overrides(self.capabilities.clone()))),
            other => Ok(other),
        }
    }
}

impl Settings {
    /// The servers in effect: the ones added, or — for settings from before servers existed — one
    /// Ollama server at `host`.
    pub fn servers(&self) -> Vec<ServerConfig> {
        if !self.servers.is_empty() {
            return self.servers.clone();
        }
        vec![ServerConfig::new(LEGACY_SERVER_ID, "Ollama", ServerKind::Ollama, self.host.clone().unwrap_or_default())]
    }

    /// The server in use: the default if it still exists, else the first.
    pub fn current_server(&self) -> ServerConfig {
        let servers = self.servers();
        let chosen = self.default_server.as_deref().and_then(|id| servers.iter().find(|s| s.id == id));
        chosen.unwrap_or(&servers[0]).clone()
    }

    /// Add a server (checked first) and return its new id. The first added server keeps the old
    /// `host` server beside it, so nothing the user had disappears.
    pub fn add_server(&mut self, name: &str, kind: ServerKind, base_url: &str) -> Result<String> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Usage("a server needs a name".into()));
        }
        let mut server = ServerConfig::new(String::new(), name, kind, base_url.trim());
        server.url()?;
        if self.servers.is_empty() {
            self.servers = self.servers();
        }
        let slug: String =
            name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let slug = slug.trim_matches('-');
        let base = if slug.is_empty() { "server" } else { slug };
        let mut id = base.to_string();
        let mut n = 2;
        while self.servers.iter().any(|s| s.id == id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        server.id = id.clone();
        self.servers.push(server);
        Ok(id)
    }

    /// Remove a server (its key should be deleted from the keychain too: [`ApiKeys::delete`]).
    /// The last server cannot be removed: there is always one to talk to.
    pub fn remove_server(&mut self, id: &str) -> Result<()> {
        if self.servers.is_empty() {
            self.servers = self.servers();
        }
        if self.servers.len() <= 1 {
            return Err(Error::Usage("the last server cannot be removed".into()));
        }
        let before = self.servers.len();
        self.servers.retain(|s| s.id != id);
        if self.servers.len() == before {
            return Err(Error::Usage(format!("no server with id \"{id}\"")));
        }
        if self.default_server.as_deref() == Some(id) {
            self.default_server = None;
        }
        Ok(())
    }
}

/// API keys in the OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service on
/// Linux), one entry per server id under the service `gemma-desk`. Where no keychain can be used
/// (Linux without a D-Bus session or Secret Service), every call fails with `Error::Keychain`:
/// a key is never written anywhere else.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    service: String,
}

impl Default for ApiKeys {
    fn default() -> Self {
        ApiKeys { service: "gemma-desk".into() }
    }
}

impl ApiKeys {
    /// Keys under another service name (tests keep theirs apart).
    pub fn with_service(service: &str) -> Self {
        ApiKeys { service: service.into() }
    }

    fn entry(&self, server_id: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, &format!("server:{server_id}")).map_err(keychain_error)
    }

    /// The key for a server, `None` when it has none.
    pub fn get(&self, server_id: &str) -> Result<Option<String>> {
        match self.entry(server_id)?.get_password() {
            Ok(k) => Ok(Some(k)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    /// Store (or replace) a server's key. A blank key deletes it.
    pub fn set(&self, server_id: &str, key: &str) -> Result<()> {
        let key = key.trim();
        if key.is_empty() {
            return self.delete(server_id);
        }
        self.entry(server_id)?.set_password(key).map_err(keychain_error)
    }

    /// Forget a server's key; forgetting a key that is not there is fine.
    pub fn delete(&self, server_id: &str) -> Result<()> {
        match self.entry(server_id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

fn keychain_error(e: keyring::Error) -> Error {
    Error::Keychain(crate::client::truncate(&e.to_string(), 300))
}

/// How the user wants one model to answer. Empty fields mean the server's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelOptions {
    /// Sent first in every conversation with this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Ollama's `num_ctx`. OpenAI-compatible servers fix the context length on their side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_ctx: Option<u32>,
    /// Ollama's `keep_alive` ("5m", "1h", "-1" for ever, "0" to unload at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<String>,
}

impl ModelOptions {
    pub fn is_empty(&self) -> bool {
        *self == ModelOptions::default()
    }

    /// Blank text counts as unset; out-of-range numbers are refused with what is allowed.
    pub fn cleaned(self, lang: Lang) -> Result<ModelOptions> {
        let text = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) || t.is_nan() {
                let what = lang.pick("temperature must be between 0 and 2", "温度必须在 0 到 2 之间");
                return Err(Error::Usage(format!("{what} ({t})")));
            }
        }
        if let Some(n) = self.num_ctx {
            if !(256..=1_048_576).contains(&n) {
                let what = lang.pick(
                    "context length must be between 256 and 1048576 tokens",
                    "上下文长度必须在 256 到 1048576 个 token 之间",
                );
                return Err(Error::Usage(format!("{what} ({n})")));
            }
        }
        let keep_alive = text(self.keep_alive);
        if let Some(k) = &keep_alive {
            // Ollama takes a Go duration ("10m", "1h30m") or a number of seconds ("-1", "3600").
            let ok = k.parse::<i64>().is_ok()
                || k.trim_start_matches('-').split_inclusive(['h', 'm', 's']).all(|part| {
                    let (num, unit) = part.split_at(part.len() - 1);
                    "hms".contains(unit) && !num.is_empty() && num.parse::<f64>().is_ok()
                });
            if !ok {
                let what =
                    lang.pick("keep-loaded must look like 5m, 1h, 30s or -1", "保持加载的格式应为 5m、1h、30s 或 -1");
                return Err(Error::Usage(format!("{what} (\"{k}\")")));
            }
        }
        Ok(ModelOptions {
            system_prompt: text(self.system_prompt),
            temperature: self.temperature,
            num_ctx: self.num_ctx,
            keep_alive,
        })
    }
}

/// The folder for the app's data: `GEMMA_DESK_DATA_DIR` when set (tests, portable installs),
/// else the platform's folder that the caller passes in.
pub fn data_dir(platform_default: PathBuf) -> PathBuf {
    data_dir_override().unwrap_or(platform_default)
}

/// `GEMMA_DESK_DATA_DIR` when set and not empty.
pub fn data_dir_override() -> Option<PathBuf> {
    std::env::var_os("GEMMA_DESK_DATA_DIR").filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// The folder for the app's log files: `logs` in `GEMMA_DESK_DATA_DIR` when set, else the platform's log folder.
pub fn log_dir(platform_default: PathBuf) -> PathBuf {
    data_dir_override().map(|d| d.join("logs")).unwrap_or(platform_default)
}

pub struct SettingsStore {
    path: PathBuf,
}

impl SettingsStore {
    pub fn new(dir: &Path) -> Self {
        SettingsStore { path: dir.join("settings.json") }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved settings, or defaults when there are none. A file that does not parse is renamed
    /// to `settings.json.unreadable-<unix time>` (so nothing is lost) and a warning is returned.
    pub fn load(&self) -> (Settings, Option<String>) {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
            Err(e) => return (Settings::default(), Some(format!("cannot read {}: {e}", self.path.display()))),
        };
        match serde_json::from_str(&text) {
            Ok(s) => (s, None),
            Err(e) => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let aside = self.path.with_extension(format!("json.unreadable-{secs}"));
                let moved = std::fs::rename(&self.path, &aside).is_ok();
                let warning = if moved {
                    format!("settings could not be read ({e}); the file was kept as {}", aside.display())
                } else {
                    format!("settings could not be read ({e})")
                };
                (Settings::default(), Some(warning))
            }
        }
    }

    /// Write to a temporary file, flush it to disk, then rename over the old one.
    pub fn save(&self, settings: &Settings) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(serde_json::to_string_pretty(settings).expect("settings serialise").as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_fields() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("settings.json"), r#"{"host":"h:1","future":{"x":1}}"#).unwrap();
        let store = SettingsStore::new(dir.path());
        let (mut s, warn) = store.load();
        assert!(warn.is_none());
        assert_eq!(s.host.as_deref(), Some("h:1"));
        s.language = Some(Lang::Zh);
        store.save(&s).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["future"]["x"], 1);
        assert_eq!(v["language"], "zh");
        assert_eq!(store.load().0, s);
    }

    #[test]
    fn unreadable_file_is_moved_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("settings.json"), "{not json").unwrap();
        let store = SettingsStore::new(dir.path());
        let (s, warn) = store.load();
        assert_eq!(s, Settings::default());
        assert!(warn.unwrap().contains("kept as"));
        let kept: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(kept.iter().any(|n| n.to_string_lossy().starts_with("settings.json.unreadable-")), "{kept:?}");
        assert!(!store.path().exists());
    }

    #[test]
    fn old_files_with_just_host_mean_one_ollama_server() {
        let s: Settings = serde_json::from_str(r#"{"host":"h:1","language":"zh"}"#).unwrap();
        let servers = s.servers();
        assert_eq!(servers.len(), 1);
        assert_eq!((servers[0].kind, servers[0].base_url.as_str()), (ServerKind::Ollama, "h:1"));
        assert_eq!(s.current_server().url().unwrap().as_str(), "http://h:1/");
        // No host at all: Ollama wherever OLLAMA_HOST or the default says.
        assert_eq!(Settings::default().current_server().kind, ServerKind::Ollama);
    }

    #[test]
    fn servers_are_added_removed_and_saved_without_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("settings.json"), r#"{"host":"h:1"}"#).unwrap();
        let store = SettingsStore::new(dir.path());
        let (mut s, _) = store.load();
        let id = s.add_server("Lab vLLM", ServerKind::OpenAi, "http://10.0.0.5:8000").unwrap();
        assert_eq!(id, "lab-vllm");
        assert_eq!(s.add_server("Lab vLLM", ServerKind::OpenAi, "http://x:1").unwrap(), "lab-vllm-2");
        assert!(s.add_server(" ", ServerKind::OpenAi, "http://x:1").is_err());
        assert!(s.add_server("bad", ServerKind::OpenAi, "ftp://x").is_err());
        // The old host server is kept beside the new ones.
        assert_eq!(s.servers.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["ollama", "lab-vllm", "lab-vllm-2"]);
        s.default_server = Some(id.clone());
        let lab = s.current_server();
        assert_eq!(lab.url().unwrap().as_str(), "http://10.0.0.5:8000/v1/");
        assert!(lab.insecure(), "plain http to another machine");
        assert!(!ServerConfig::new("l", "local", ServerKind::OpenAi, "http://127.0.0.1:8080/v1").insecure());
        assert!(!ServerConfig::new("t", "tls", ServerKind::OpenAi, "https://example.com/v1").insecure());
        s.servers[1].has_api_key = true;
        s.servers[1].extra.insert("future".into(), serde_json::json!(1));
        store.save(&s).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"has_api_key\": true") && text.contains("\"kind\": \"openai\""), "{text}");
        let (back, _) = store.load();
        assert_eq!(back, s);
        s.remove_server(&id).unwrap();
        assert_eq!(s.default_server, None);
        assert!(s.remove_server("nope").is_err());
        s.remove_server("lab-vllm-2").unwrap();
        assert!(s.remove_server("ollama").is_err(), "one server always stays");
    }

    #[test]
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let (s, warn) = SettingsStore::new(&dir.path().join("sub")).load();
        assert_eq!(s, Settings::default());
        assert!(warn.is_none());
    }
}

#[cfg(test)]
mod model_options_tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_bad_values_are_refused() {
        let o =
            ModelOptions { system_prompt: Some("  ".into()), keep_alive: Some(" 10m ".into()), ..Default::default() };
        let o = o.cleaned(Lang::En).unwrap();
        assert_eq!(o.system_prompt, None);
        assert_eq!(o.keep_alive.as_deref(), Some("10m"));
        for k in ["-1", "3600", "1h30m", "0"] {
            assert!(ModelOptions { keep_alive: Some(k.into()), ..Default::default() }.cleaned(Lang::En).is_ok(), "{k}");
        }
        for k in ["forever", "10x", "m"] {
            assert!(
                ModelOptions { keep_alive: Some(k.into()), ..Default::default() }.cleaned(Lang::En).is_err(),
                "{k}"
            );
        }
        assert!(ModelOptions { temperature: Some(3.5), ..Default::default() }.cleaned(Lang::En).is_err());
        assert!(ModelOptions { num_ctx: Some(10), ..Default::default() }.cleaned(Lang::En).is_err());
    }

    #[test]
    fn options_round_trip_through_the_settings_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::new(dir.path());
        let mut s = Settings::default();
        let o = ModelOptions { temperature: Some(0.2), num_ctx: Some(8192), ..Default::default() };
        s.model_options.insert("gemma3:4b".into(), o.clone());
        store.save(&s).unwrap();
        assert_eq!(store.load().0.model_options["gemma3:4b"], o);
    }
}
