//! What can be checked here of the release machinery that only runs on GitHub (macOS, Windows): the workflow parses
//! and has the expected shape with no secret in it, the Tauri configs are valid, the icons are what they say.
//! Fast: files only, nothing is built. The .deb itself is tested by tests/deb/run.sh.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tauri_utils::config::{BundleTarget, Config};
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ----------------------------------------------------------------------------------------------------------------
// .github/workflows/release.yml
// ----------------------------------------------------------------------------------------------------------------

fn workflow() -> Yaml {
    let docs = YamlLoader::load_from_str(&read(".github/workflows/release.yml")).expect("release.yml is valid YAML");
    assert_eq!(docs.len(), 1, "one YAML document");
    docs.into_iter().next().unwrap()
}

fn str_of(y: &Yaml) -> &str {
    y.as_str().unwrap_or_else(|| panic!("expected a string, got {y:?}"))
}

/// The steps of the release job that use `action` (e.g. `tauri-apps/tauri-action@`).
fn steps_using<'a>(wf: &'a Yaml, action: &str) -> Vec<&'a Yaml> {
    let steps = wf["jobs"]["release"]["steps"].as_vec().expect("jobs.release.steps");
    steps.iter().filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action))).collect()
}

/// A Debian package list as written in a shell array or an apt-get command: words, without options and comments.
fn words(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap())
        .flat_map(|l| l.split([' ', '(', ')', '\\']))
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .map(str::to_string)
        .collect()
}

#[test]
fn release_workflow_runs_on_version_tags_for_three_platforms() {
    let wf = workflow();
    // YAML 1.2: `on` is a plain key (YAML 1.1 parsers read it as `true`; GitHub reads it as `on`).
    let tags: Vec<&str> = wf["on"]["push"]["tags"].as_vec().expect("on.push.tags").iter().map(str_of).collect();
    assert_eq!(tags, ["v*"]);
    assert!(wf["on"]["push"]["branches"].is_badvalue(), "tags only, no branch pushes");
    assert_eq!(str_of(&wf["permissions"]["contents"]), "write", "needed to create the draft release");

    let job = &wf["jobs"]["release"];
    assert_eq!(str_of(&job["runs-on"]), "${{ matrix.platform }}");
    let include = job["strategy"]["matrix"]["include"].as_vec().expect("matrix.include");
    let platforms: Vec<&str> = include.iter().map(|i| str_of(&i["platform"])).collect();
    assert_eq!(platforms, ["macos-latest", "ubuntu-22.04", "windows-latest"]);
    let args = |p: &str| str_of(&include.iter().find(|i| str_of(&i["platform"]) == p).unwrap()["args"]).to_string();
    assert_eq!(args("macos-latest"), "--target universal-apple-darwin");
    assert_eq!(args("ubuntu-22.04"), "--bundles deb");
    assert_eq!(args("windows-latest"), "--bundles msi,nsis");
    let ubuntu = include.iter().find(|i| str_of(&i["platform"]) == "ubuntu-22.04").unwrap();
    assert_eq!(str_of(&ubuntu["asset-name"]), "gemma-desk_[version]_amd64[ext]", "Debian's file name");

    // A universal macOS binary needs both Apple targets installed.
    let rust = steps_using(&wf, "dtolnay/rust-toolchain@");
    assert_eq!(rust.len(), 1);
    let targets = str_of(&rust[0]["with"]["targets"]);
    assert!(targets.contains("aarch64-apple-darwin,x86_64-apple-darwin"), "{targets}");
}

#[test]
fn release_workflow_installs_the_dev_scripts_build_packages_without_libheif() {
    let wf = workflow();
    let dev = read("dev");
    let start = dev.find("BUILD_DEBS=(").expect("BUILD_DEBS in ./dev") + "BUILD_DEBS=(".len();
    // The array runs to the first `)` outside a comment.
    let mut list = String::new();
    for line in dev[start..].lines() {
        let code = line.split('#').next().unwrap();
        if let Some(end) = code.find(')') {
            list.push_str(&code[..end]);
            break;
        }
        list.push_str(code);
        list.push('\n');
    }
    let mut wanted = words(&list);
    assert!(wanted.remove("libheif-dev"), "./dev's BUILD_DEBS has libheif-dev");

    let steps = wf["jobs"]["release"]["steps"].as_vec().unwrap();
    let apt = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("apt-get install"))
        .expect("a step installing Debian packages");
    let install = &apt[apt.find("apt-get install").unwrap() + "apt-get install".len()..];
    assert_eq!(words(install), wanted, "the Ubuntu job installs ./dev's BUILD_DEBS minus libheif-dev");
}

#[test]
fn release_workflow_uses_the_tauri_action_for_a_draft_release_without_heic() {
    let wf = workflow();
    let tauri = steps_using(&wf, "tauri-apps/tauri-action@");
    assert_eq!(tauri.len(), 1, "one tauri-action step");
    let step = tauri[0];
    assert_eq!(str_of(&step["uses"]), "tauri-apps/tauri-action@v0");
    let with = &step["with"];
    assert_eq!(with["releaseDraft"].as_bool(), Some(true), "a draft, published by hand");
    assert_eq!(str_of(&with["tagName"]), "${{ github.ref_name }}");
    assert_eq!(str_of(&with["releaseAssetNamePattern"]), "${{ matrix.asset-name }}");
    let args = str_of(&with["args"]);
    assert!(args.starts_with("${{ matrix.args }} "), "{args}");
    // Built without libheif on every runner, and the .deb then does not depend on libheif1.
    let (tauri_args, cargo_args) = args.split_once(" -- ").expect("cargo arguments after --");
    assert_eq!(cargo_args.trim(), "--no-default-features");
    let config = tauri_args.split_once("--config ").expect("--config").1.trim();
    assert!(root().join(config).is_file(), "{config} exists");
    let merged = merged_config(&[config.strip_prefix("src-tauri/").unwrap()]);
    assert_eq!(merged["bundle"]["linux"]["deb"]["depends"], serde_json::json!(["libdbus-1-3"]));
}

#[test]
fn release_workflow_hard_codes_no_secret() {
    let wf = workflow();
    // Every value given to an action or a step (env:, with:) whose name says it is secret comes from `secrets.`.
    let secret_name = |k: &str| {
        let k = k.to_ascii_uppercase();
        k.starts_with("APPLE_")
            || ["TOKEN", "PASSWORD", "SECRET", "CERTIFICATE", "PRIVATE_KEY", "API_KEY", "THUMBPRINT"]
                .iter()
                .any(|w| k.contains(w))
    };
    let from_secrets = |v: &str| {
        let v = v.trim();
        v.starts_with("${{ secrets.")
            && v.ends_with("}}")
            && v["${{ secrets.".len()..v.len() - 2].trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut checked = BTreeSet::new();
    let mut stack = vec![&wf];
    while let Some(node) = stack.pop() {
        match node {
            Yaml::Hash(map) => {
                for (k, v) in map {
                    let k = k.as_str().unwrap_or_default();
                    if (k == "env" || k == "with") && v.as_hash().is_some() {
                        for (name, value) in v.as_hash().unwrap() {
                            let name = str_of(name);
                            if secret_name(name) {
                                let value = value.as_str().unwrap_or_else(|| panic!("{name}: {value:?}"));
                                assert!(
                                    from_secrets(value),
                                    "{name} must be a ${{{{ secrets.… }}}} expression: {value}"
                                );
                                checked.insert(name.to_string());
                            }
                        }
                    }
                    stack.push(v);
                }
            }
            Yaml::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    for name in [
        "GITHUB_TOKEN",
        "APPLE_CERTIFICATE",
        "APPLE_CERTIFICATE_PASSWORD",
        "APPLE_SIGNING_IDENTITY",
        "APPLE_ID",
        "APPLE_PASSWORD",
        "APPLE_TEAM_ID",
    ] {
        assert!(checked.contains(name), "{name} is passed to the release (from secrets)");
    }
    // And nothing that looks like a key or a certificate sits anywhere in the file.
    let text = read(".github/workflows/release.yml");
    assert!(!text.contains("-----BEGIN"), "no PEM in the workflow");
    assert!(!text.lines().any(|l| l.split_whitespace().any(|w| w.len() > 80)), "no long base64 blob");
}

// ----------------------------------------------------------------------------------------------------------------
// src-tauri/tauri*.conf.json
// ----------------------------------------------------------------------------------------------------------------

/// JSON Merge Patch (RFC 7396), as Tauri merges platform files and `--config` over tauri.conf.json.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                } else {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn config_json(name: &str) -> Value {
    serde_json::from_str(&read(&format!("src-tauri/{name}"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// tauri.conf.json with `overlays` (file names in src-tauri/) merged over it, in order.
fn merged_config(overlays: &[&str]) -> Value {
    let mut config = config_json("tauri.conf.json");
    for o in overlays {
        merge(&mut config, &config_json(o));
    }
    config
}

fn parse(config: Value, what: &str) -> Config {
    serde_json::from_value(config).unwrap_or_else(|e| panic!("{what} is not a valid Tauri config: {e}"))
}

/// Every other tauri*.conf.json next to tauri.conf.json: platform files and build flavours.
fn overlays() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("src-tauri"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tauri.") && n.ends_with(".conf.json") && n != "tauri.conf.json")
        .collect();
    names.sort();
    names
}

#[test]
fn tauri_configs_are_valid() {
    let config = parse(merged_config(&[]), "tauri.conf.json");
    assert_eq!(config.identifier, "app.gemmadesk.desktop");
    assert_eq!(config.product_name.as_deref(), Some("Gemma Desk"));
    // One version: the tag must be v + this (the workflow checks), and the crates say the same.
    let cargo = read("Cargo.toml");
    let workspace_version = cargo[cargo.find("[workspace.package]").unwrap()..]
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("[workspace.package] version");
    assert_eq!(config.version.as_deref(), Some(workspace_version), "tauri.conf.json and Cargo.toml agree");
    assert!(config.bundle.active);
    assert!(matches!(config.bundle.targets, BundleTarget::All), "all of this platform's installers");
    // Tauri's deb bundler adds WebKitGTK and GTK to Depends; the libraries the binary links besides those
    // (readelf -d: libheif for HEIC, the default here; libdbus for the keychain) are declared.
    let depends = config.bundle.linux.deb.depends.clone().unwrap_or_default();
    assert_eq!(depends, ["libheif1", "libdbus-1-3"]);

    let overlays = overlays();
    assert!(overlays.contains(&"tauri.no-heic.conf.json".to_string()), "{overlays:?}");
    for name in &overlays {
        let merged = parse(merged_config(&[name]), name);
        assert_eq!(merged.identifier, config.identifier, "{name} keeps the identifier");
    }
    let no_heic = parse(merged_config(&["tauri.no-heic.conf.json"]), "no-heic");
    assert_eq!(no_heic.bundle.linux.deb.depends, Some(vec!["libdbus-1-3".into()]), "no libheif1 without heic");
    // No signing identity is committed: it comes from the secrets (docs/releasing.md).
    for name in std::iter::once("tauri.conf.json").chain(overlays.iter().map(String::as_str)) {
        let text = read(&format!("src-tauri/{name}"));
        for key in ["certificateThumbprint", "signCommand", "signingIdentity", "certificatePassword"] {
            assert!(!text.contains(key), "{name} must not hold {key}: it belongs in an uncommitted config");
        }
    }
}

// ----------------------------------------------------------------------------------------------------------------
// Icons
// ----------------------------------------------------------------------------------------------------------------

/// Width, height and colour type of a PNG, from its IHDR chunk.
fn png_header(path: &Path) -> (u32, u32, u8) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(data.starts_with(b"\x89PNG\r\n\x1a\n") && &data[12..16] == b"IHDR", "{} is a PNG", path.display());
    let be = |i: usize| u32::from_be_bytes(data[i..i + 4].try_into().unwrap());
    (be(16), be(20), data[25])
}

/// The size a PNG icon's name promises: `32x32.png` 32, `128x128@2x.png` 256, `Square44x44Logo.png` 44,
/// `StoreLogo.png` 50 (Windows Store), `icon.png` 512.
fn promised_size(name: &str) -> Option<u32> {
    match name {
        "icon.png" => return Some(512),
        "StoreLogo.png" => return Some(50),
        _ => {}
    }
    let digits: String = name.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    let n: u32 = digits.parse().ok()?;
    assert!(name.contains(&format!("{n}x{n}")), "{name}: square sizes are named NxN");
    Some(if name.contains("@2x") { n * 2 } else { n })
}

#[test]
fn bundle_icons_exist_and_are_square_pngs_of_their_sizes() {
    let config = parse(merged_config(&[]), "tauri.conf.json");
    let listed: Vec<PathBuf> = config.bundle.icon.iter().map(|i| root().join("src-tauri").join(i)).collect();
    let names: Vec<String> = listed.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for needed in ["32x32.png", "128x128.png", "128x128@2x.png", "icon.icns", "icon.ico"] {
        assert!(names.iter().any(|n| n == needed), "bundle.icon lists {needed} (Linux, macOS, Windows): {names:?}");
    }
    for (path, name) in listed.iter().zip(&names) {
        assert!(path.is_file(), "{} is missing", path.display());
        if name.ends_with(".png") {
            let (w, h, colour) = png_header(path);
            assert_eq!(w, h, "{name} is square");
            assert_eq!(Some(w), promised_size(name), "{name} is {w}×{h}");
            assert_eq!(colour, 6, "{name} is RGBA (Tauri embeds RGBA icons)");
        }
    }

    // Every PNG in icons/ (the generated set and its source) is square and of the size its name says.
    let mut pngs = 0;
    for entry in std::fs::read_dir(root().join("icons")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".png") {
            continue;
        }
        let (w, h, _) = png_header(&path);
        assert_eq!(w, h, "{name} is square");
        if name == "source.png" {
            assert!(w >= 1024, "the source is at least 1024 px");
        } else {
            assert_eq!(Some(w), promised_size(&name), "{name} is {w}×{h}");
        }
        pngs += 1;
    }
    assert!(pngs >= 15, "the full set from `cargo tauri icon` ({pngs} PNGs)");
}

#[test]
fn windows_and_macos_icons_hold_the_sizes_they_need() {
    // .ico: a directory of images; 0 means 256. Windows wants 16, 32 and 256 at least (taskbar, Explorer).
    let ico = std::fs::read(root().join("icons/icon.ico")).unwrap();
    assert_eq!(&ico[..4], &[0, 0, 1, 0], "an icon file");
    let count = u16::from_le_bytes([ico[4], ico[5]]) as usize;
    let sizes: BTreeSet<u32> = (0..count)
        .map(|i| {
            let e = &ico[6 + 16 * i..6 + 16 * (i + 1)];
            assert_eq!(e[0], e[1], "square entries");
            if e[0] == 0 {
                256
            } else {
                u32::from(e[0])
            }
        })
        .collect();
    for s in [16, 32, 256] {
        assert!(sizes.contains(&s), "icon.ico has {s}×{s}: {sizes:?}");
    }
    // .icns: "icns", then the file's length, big-endian.
    let icns = std::fs::read(root().join("icons/icon.icns")).unwrap();
    assert_eq!(&icns[..4], b"icns");
    assert_eq!(u32::from_be_bytes(icns[4..8].try_into().unwrap()) as usize, icns.len());
}

#[test]
fn deb_test_script_is_valid_shell() {
    for script in ["tests/deb/run.sh", "dev"] {
        let status = std::process::Command::new("bash").arg("-n").arg(root().join(script)).status().unwrap();
        assert!(status.success(), "bash -n {script}");
    }
}
