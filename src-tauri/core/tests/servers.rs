//! Servers from settings: API keys through the keychain (an in-memory store standing in for the
//! OS one, installed for this test binary only), and the backend each server config makes.

use gemma_desk_core::settings::{ApiKeys, ServerConfig, Settings};
use gemma_desk_core::{Backend, Error, ServerKind};
use keyring::credential::{Credential, CredentialApi, CredentialBuilder, CredentialBuilderApi, CredentialPersistence};
use ollama_emulator::Emulator;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};

type Store = Arc<Mutex<HashMap<(String, String), Vec<u8>>>>;

/// Like the OS keychain, entries with the same service and user share their secret
/// (keyring's own mock keeps one per entry object).
struct MemoryBuilder(Store);
struct MemoryCredential(Store, (String, String));

impl CredentialApi for MemoryCredential {
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        self.0.lock().unwrap().insert(self.1.clone(), secret.to_vec());
        Ok(())
    }
    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        self.0.lock().unwrap().get(&self.1).cloned().ok_or(keyring::Error::NoEntry)
    }
    fn delete_credential(&self) -> keyring::Result<()> {
        self.0.lock().unwrap().remove(&self.1).map(|_| ()).ok_or(keyring::Error::NoEntry)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl CredentialBuilderApi for MemoryBuilder {
    fn build(&self, _target: Option<&str>, service: &str, user: &str) -> keyring::Result<Box<Credential>> {
        Ok(Box::new(MemoryCredential(self.0.clone(), (service.into(), user.into()))))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn persistence(&self) -> CredentialPersistence {
        CredentialPersistence::ProcessOnly
    }
}

fn memory_keychain() -> Store {
    static INIT: Once = Once::new();
    static STORE: Mutex<Option<Store>> = Mutex::new(None);
    INIT.call_once(|| {
        let store: Store = Arc::default();
        *STORE.lock().unwrap() = Some(store.clone());
        keyring::set_default_credential_builder(Box::new(MemoryBuilder(store)) as Box<CredentialBuilder>);
    });
    STORE.lock().unwrap().clone().unwrap()
}

#[test]
fn keys_round_trip_through_the_keychain_only() {
    let store = memory_keychain();
    let keys = ApiKeys::with_service("gemma-desk-test-roundtrip");
    assert_eq!(keys.get("lab").unwrap(), None);
    keys.set("lab", "  sk-123 ").unwrap();
    assert_eq!(keys.get("lab").unwrap().as_deref(), Some("sk-123"), "trimmed, and found by a new entry");
    assert!(store.lock().unwrap().contains_key(&("gemma-desk-test-roundtrip".into(), "server:lab".into())));
    keys.set("lab", "sk-456").unwrap();
    assert_eq!(keys.get("lab").unwrap().as_deref(), Some("sk-456"));
    keys.set("lab", " ").unwrap(); // blank: forget it
    assert_eq!(keys.get("lab").unwrap(), None);
    keys.delete("lab").unwrap(); // forgetting twice is fine
}

#[tokio::test]
async fn a_server_with_a_key_connects_with_it() {
    memory_keychain();
    let emu = Emulator::start();
    emu.set_api_key(Some("sk-lab".into()));
    let keys = ApiKeys::with_service("gemma-desk-test-connect");
    let mut settings = Settings::default();
    let id = settings.add_server("Lab", ServerKind::OpenAi, &emu.url()).unwrap();
    settings.default_server = Some(id.clone());
    let mut server = settings.current_server();
    assert_eq!(server.kind, ServerKind::OpenAi);
    // Without the key the server refuses…
    let e = server.connect(&keys).unwrap().list_models().await.unwrap_err();
    assert!(matches!(e, Error::Server { status: 401, .. }), "{e:?}");
    // …with it (from the keychain, never from the settings file) it answers.
    keys.set(&id, "sk-lab").unwrap();
    server.has_api_key = true;
    let backend = server.connect(&keys).unwrap();
    assert!(matches!(backend, Backend::OpenAi(_)));
    assert_eq!(backend.list_models().await.unwrap().len(), 3);
    let file = serde_json::to_string(&settings).unwrap();
    assert!(!file.contains("sk-lab"), "{file}");
    // An Ollama server from an old settings file.
    let old: Settings = serde_json::from_str(&format!(r#"{{"host":"{}"}}"#, emu.url())).unwrap();
    emu.set_api_key(None);
    let status = old.current_server().connect(&keys).unwrap().status().await.unwrap();
    assert_eq!((status.kind, status.models.len()), (ServerKind::Ollama, 3));
}

#[test]
fn capability_overrides_from_settings_reach_the_client() {
    memory_keychain();
    let mut server = ServerConfig::new("x", "x", ServerKind::OpenAi, "http://127.0.0.1:9/v1");
    server.capabilities.insert("my-model".into(), vec!["completion".into(), "vision".into()]);
    let json = serde_json::to_value(&server).unwrap();
    assert_eq!(json["capabilities"]["my-model"][1], "vision");
    assert!(server.connect(&ApiKeys::default()).is_ok(), "no key asked for when the server has none");
}
