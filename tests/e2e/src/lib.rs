//! Shared pieces of the black-box tests: where the built binaries are, and a real GUI session
//! (Xvfb + tauri-driver + WebKitWebDriver) with an isolated profile.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use ollama_emulator as emulator;

/// The workspace's `target/debug` (or `$CARGO_TARGET_DIR/debug`).
pub fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    target.join("debug")
}

/// A built binary of this workspace; the test command builds them before running tests.
pub fn binary(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(p.exists(), "{} is missing: build it first (cargo build --workspace --bins)", p.display());
    p.canonicalize().unwrap()
}

/// `gemma-desk-cli` with a clean environment: no OLLAMA_HOST, English, a short stall deadline.
pub fn cli() -> Command {
    let mut c = Command::new(binary("gemma-desk-cli"));
    c.env_remove("OLLAMA_HOST")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .env("GEMMA_DESK_STALL_SECS", "2")
        .stdin(Stdio::null());
    c
}

/// A port nothing listens on right now.
/// The emulator with Gemma 4 e4b and the 31b cloud model installed after the defaults (gemma3:4b stays the
/// first, so the default choice).
pub fn emulator_with_gemma4() -> emulator::Emulator {
    let emu = emulator::Emulator::start();
    let mut models = emulator::ModelSpec::defaults();
    models.extend([emulator::ModelSpec::gemma4_e4b(), emulator::ModelSpec::gemma4_31b_cloud()]);
    emu.set_models(models);
    emu
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Poll `probe` until it returns `Some`, or panic with `what` after `timeout`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where tests leave screenshots for people to look at.
pub fn artifacts_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A child process that is stopped when dropped: SIGTERM first (tauri-driver must get the
/// chance to stop WebKitWebDriver, or the port stays taken), then SIGKILL.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual X display of its own, for one GUI test.
pub struct Display {
    pub name: String,
    _xvfb: Proc,
}

impl Display {
    /// Start Xvfb on the first display number that is free (no lock file), waiting for its socket.
    pub fn start() -> Display {
        for n in 90..200u32 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let mut child = Proc(
                Command::new("Xvfb")
                    .args([&format!(":{n}"), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("Xvfb is not installed (apt-get install xvfb)"),
            );
            let socket = format!("/tmp/.X11-unix/X{n}");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if Path::new(&socket).exists() {
                    return Display { name: format!(":{n}"), _xvfb: child };
                }
                if let Ok(Some(_)) = child.0.try_wait() {
                    break; // lost a race for this number: try the next
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        panic!("no free X display between :90 and :199");
    }
}

/// An isolated home for the app: HOME and the XDG folders in a temp dir, so nothing the test
/// does touches (or is influenced by) the real profile.
pub struct Profile {
    pub dir: tempfile::TempDir,
}

impl Profile {
    pub fn new() -> Profile {
        Profile { dir: tempfile::tempdir().unwrap() }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let d = self.dir.path();
        let mut v = vec![("HOME".to_string(), d.display().to_string())];
        for (var, sub) in [
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_CACHE_HOME", "cache"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_RUNTIME_DIR", "runtime"),
        ] {
            let p = d.join(sub);
            std::fs::create_dir_all(&p).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700));
            }
            v.push((var.to_string(), p.display().to_string()));
        }
        // Test builds save exports here instead of asking with the native dialog.
        std::fs::create_dir_all(self.exports_dir()).unwrap();
        v.push(("GEMMA_DESK_E2E_SAVE_DIR".into(), self.exports_dir().display().to_string()));
        // …and import the backup saved there instead of asking which file.
        let backup = self.exports_dir().join("gemma-desk-conversations.json");
        v.push(("GEMMA_DESK_E2E_OPEN_FILE".into(), backup.display().to_string()));
        v
    }

    /// Where the e2e build saves exported files (no native save dialog under WebDriver).
    pub fn exports_dir(&self) -> PathBuf {
        self.dir.path().join("exports")
    }

    /// Where the app keeps its conversations under this profile (its store can be filled before a launch).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data/app.gemmadesk.desktop")
    }

    /// Where the app keeps its settings under this profile.
    pub fn settings_file(&self) -> PathBuf {
        self.dir.path().join("config/app.gemmadesk.desktop/settings.json")
    }
}

impl Default for Profile {
    fn default() -> Self {
        Self::new()
    }
}

/// Start tauri-driver on free ports with the given environment (passed on to the app).
pub fn start_driver(display: &Display, env: &[(String, String)]) -> (Proc, u16) {
    let port = free_port();
    let native = free_port();
    let driver = which("tauri-driver").expect("tauri-driver is not installed (cargo install tauri-driver --locked)");
    let mut cmd = Command::new(driver);
    cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
        .env("DISPLAY", &display.name)
        .env_remove("OLLAMA_HOST")
        .env_remove("WAYLAND_DISPLAY")
        .env("LANG", "en_US.UTF-8")
        .env("GDK_BACKEND", "x11")
        // WebKit's compositing needs a GPU it does not have here.
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Proc(cmd.spawn().expect("start tauri-driver"));
    wait_until(Duration::from_secs(20), "tauri-driver to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    (child, port)
}

/// A WebDriver session with `application` through the tauri-driver on `port`. tauri-driver listens before
/// WebKitWebDriver behind it is ready: the first connects are retried.
pub async fn webdriver_session(port: u16, application: &Path) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), serde_json::json!({ "application": application }));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) if attempt < 10 => {
                eprintln!("WebDriver session attempt {attempt} failed: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("no WebDriver session with the app: {e}"),
        }
    }
}

pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A photo from the repository's fixtures (`tests/fixtures/images`, see its README), as an absolute path.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/images").join(name);
    path.canonicalize().unwrap_or(path).to_string_lossy().into_owned()
}
