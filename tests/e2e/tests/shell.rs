//! The app's shell, read from its source and config: the webview may call exactly the commands the UI uses and
//! nothing else, scripts run only from files (CSP), and the licence list in the About box matches Cargo.lock.
//! (What a running app does with these is covered in gui.rs.)

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The quoted names in the `commands(&[ … ])` list of build.rs.
fn manifest_commands() -> BTreeSet<String> {
    let src = read("src-tauri/build.rs");
    let list = src.split("commands(&[").nth(1).unwrap().split("])").next().unwrap();
    list.lines()
        .map(str::trim)
        .filter(|l| l.starts_with('"'))
        .map(|l| l.trim_end_matches(',').trim_matches('"').to_string())
        .collect()
}

/// The functions registered in main.rs's `generate_handler!` (module paths dropped).
fn registered_commands() -> BTreeSet<String> {
    let src = read("src-tauri/src/main.rs");
    let list = src.split("generate_handler![").nth(1).unwrap().split(']').next().unwrap();
    list.split(',')
        .map(str::trim)
        .filter(|s| s.contains("::"))
        .map(|s| s.rsplit("::").next().unwrap().to_string())
        .collect()
}

/// Every command the UI's scripts call: `invoke("name"`, and `streamTurn("name"` (chat.js's streamed turns).
fn invoked_by_ui() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("ui")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "js") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        for part in src.split("invoke(").skip(1).chain(src.split("streamTurn(").skip(1)) {
            let part = part.trim_start();
            let Some(q) = part.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
            let name: String = part[1..].chars().take_while(|c| *c != q).collect();
            names.insert(name);
        }
    }
    names
}

fn capability() -> Value {
    serde_json::from_str(&read("src-tauri/capabilities/main.json")).unwrap()
}

#[test]
fn the_webview_is_granted_exactly_the_commands_the_ui_calls() {
    let caps: Vec<String> =
        capability()["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    let granted: BTreeSet<String> =
        caps.iter().filter_map(|p| p.strip_prefix("allow-")).map(|c| c.replace('-', "_")).collect();
    let others: Vec<&String> = caps.iter().filter(|p| !p.starts_with("allow-")).collect();
    // Listening to our own events (streamed answers, drops, pull progress) is the only core permission.
    assert_eq!(others, ["core:event:allow-listen", "core:event:allow-unlisten"], "plugin permissions granted");

    let test_only: BTreeSet<String> = ["e2e_drop".to_string()].into();
    let manifest: BTreeSet<String> = manifest_commands().difference(&test_only).cloned().collect();
    let registered: BTreeSet<String> = registered_commands().difference(&test_only).cloned().collect();
    let used = invoked_by_ui();
    assert_eq!(granted, used, "granted (left) vs invoked by ui/*.js (right)");
    assert_eq!(manifest, registered, "build.rs's command list vs main.rs's handlers");
    assert_eq!(granted, manifest, "granted vs build.rs's command list");
    assert_eq!(capability()["windows"], serde_json::json!(["main"]));
    // One capability file: nothing else grants anything.
    let files: Vec<_> = std::fs::read_dir(root().join("src-tauri/capabilities")).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "capability files: {files:?}");
}

#[test]
fn scripts_run_only_from_the_apps_own_files() {
    let conf: Value = serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap();
    let csp = conf["app"]["security"]["csp"].as_str().expect("a CSP is set (Tauri applies none without it)");
    let directives: HashMap<&str, Vec<&str>> = csp
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace();
            (words.next().unwrap(), words.collect())
        })
        .collect();
    assert_eq!(directives["default-src"], ["'self'"]);
    assert_eq!(directives["script-src"], ["'self'"], "no inline or eval'd scripts, no remote ones");
    assert_eq!(directives["object-src"], ["'none'"]);
    assert!(directives["connect-src"].iter().all(|s| s.starts_with("ipc:") || *s == "http://ipc.localhost"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    // The asset protocol would let the page load local files: off.
    assert_ne!(conf["app"]["security"]["assetProtocol"]["enable"], Value::Bool(true));

    // And the page obeys it: no inline scripts or inline event handlers that the CSP would silently block.
    let html = read("ui/index.html");
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap();
        assert!(open.contains("src="), "inline <script> in ui/index.html: <script{open}>");
    }
    let lower = html.to_lowercase();
    for attr in [" onclick=", " onload=", " onerror=", " oninput=", " onsubmit=", "javascript:"] {
        assert!(!lower.contains(attr), "ui/index.html has {attr}");
    }
}

/// The crates compiled into the app (normal dependencies of `gemma-desk`, through every platform's, not proc
/// macros or build scripts which do not ship), with their licences, as `src-tauri/licenses.json` lists them.
fn shipped_crates() -> Vec<Value> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages: HashMap<&str, &Value> =
        meta["packages"].as_array().unwrap().iter().map(|p| (p["id"].as_str().unwrap(), p)).collect();
    let nodes: HashMap<&str, &Value> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().map(|n| (n["id"].as_str().unwrap(), n)).collect();
    let members: BTreeSet<&str> =
        meta["workspace_members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    let app = packages.values().find(|p| p["name"] == "gemma-desk").unwrap()["id"].as_str().unwrap();
    let is_proc_macro = |id: &str| {
        packages[id]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "proc-macro"))
    };
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut todo = vec![app];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap();
            if normal && !is_proc_macro(dep_id) {
                todo.push(dep_id);
            }
        }
    }
    let mut list: BTreeMap<(String, String), Value> = BTreeMap::new();
    for id in seen.into_iter().filter(|id| !members.contains(id)) {
        let p = packages[id];
        let name = p["name"].as_str().unwrap().to_string();
        let version = p["version"].as_str().unwrap().to_string();
        let license =
            p["license"].as_str().map(str::to_string).unwrap_or_else(|| "see the crate's licence file".into());
        list.insert(
            (name.clone(), version.clone()),
            serde_json::json!({ "name": name, "version": version, "license": license }),
        );
    }
    list.into_values().collect()
}

#[test]
fn third_party_licences_are_current() {
    let expected = serde_json::to_string_pretty(&shipped_crates()).unwrap() + "\n";
    let path = root().join("src-tauri/licenses.json");
    if std::env::var_os("GEMMA_DESK_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == expected,
        "src-tauri/licenses.json (shown in the About box) does not match Cargo.lock: regenerate it with\n  \
         GEMMA_DESK_BLESS=1 cargo test -p gemma-desk-e2e --test shell third_party_licences_are_current"
    );
    let list: Vec<Value> = serde_json::from_str(&found).unwrap();
    assert!(list.iter().any(|c| c["name"] == "tauri"), "tauri is in the list");
    assert!(list.iter().all(|c| c["name"] != "gemma-desk-core"), "our own crates are not third-party");
}
