//! Settings the user chose, kept as JSON in the app's data folder. Writes are atomic (a crash
//! mid-write leaves the old file), fields this version does not know are kept, and a file that
//! cannot be read is moved aside rather than overwritten.

use crate::i18n::Lang;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The Ollama server; `None` means `OLLAMA_HOST` or the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `None` follows the system's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
    /// The model last chosen in the picker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Whatever a newer version wrote: carried through untouched.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The folder for the app's data: `GEMMA_DESK_DATA_DIR` when set (tests, portable installs),
/// else the platform's folder that the caller passes in.
pub fn data_dir(platform_default: PathBuf) -> PathBuf {
    match std::env::var_os("GEMMA_DESK_DATA_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => platform_default,
    }
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
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let (s, warn) = SettingsStore::new(&dir.path().join("sub")).load();
        assert_eq!(s, Settings::default());
        assert!(warn.is_none());
    }
}
