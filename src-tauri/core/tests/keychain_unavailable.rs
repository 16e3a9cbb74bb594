//! Without a keychain (Linux with no D-Bus session, as on a server or in CI) keys cannot be kept
//! or read, and that is said plainly — nothing falls back to a file. Its own test binary: it
//! points this process at a D-Bus address where nothing listens.

#[cfg(target_os = "linux")]
#[test]
fn no_secret_service_is_a_clear_keychain_error() {
    use gemma_desk_core::settings::ApiKeys;
    use gemma_desk_core::{Error, Lang};
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}/no-bus", dir.path().display()));
    let keys = ApiKeys::with_service("gemma-desk-test-unavailable");
    for result in [keys.get("lab").map(|_| ()), keys.set("lab", "sk-1"), keys.delete("lab")] {
        let e = result.unwrap_err();
        assert!(matches!(e, Error::Keychain(_)), "{e:?}");
        assert_eq!(e.kind(), "keychain");
        assert!(e.hint(Lang::En).unwrap().contains("--api-key"));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written instead");
}
