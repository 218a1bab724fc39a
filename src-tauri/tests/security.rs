//! What the window may do: the CSP in the root `tauri.conf.json`, the capability that
//! allows exactly our commands (and listening to events), and the app's real context
//! (`generate_context!` on that config) refusing a core command we do not allow.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::App;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

/// The commands named in build.rs's app manifest (each gets an `allow-` permission).
fn manifest_commands() -> Vec<String> {
    let build = std::fs::read_to_string(root().join("src-tauri/build.rs")).unwrap();
    let list = build.split("const COMMANDS").nth(1).unwrap();
    let list = &list[..list.find("];").unwrap()];
    list.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('"')?
                .strip_suffix("\",")
                .map(String::from)
        })
        .collect()
}

#[test]
fn the_manifest_the_handler_and_the_capability_name_the_same_commands() {
    let manifest = manifest_commands();
    let registered: Vec<String> = daftar_app::COMMANDS.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        manifest, registered,
        "build.rs COMMANDS and lib.rs COMMANDS differ"
    );
    let capability = read_json("src-tauri/capabilities/default.json");
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    let allowed: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let mut expected: BTreeSet<String> = manifest
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    expected.insert("core:event:allow-listen".into());
    expected.insert("core:event:allow-unlisten".into());
    assert_eq!(allowed, expected);
}

#[test]
fn the_csp_allows_only_the_app_itself_and_ipc() {
    let config = read_json("tauri.conf.json");
    let csp = &config["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["style-src"], "'self'");
    assert_eq!(csp["font-src"], "'self'");
    assert_eq!(csp["img-src"], "'self' data:");
    assert_eq!(csp["connect-src"], "ipc: http://ipc.localhost");
    for directive in ["object-src", "base-uri", "frame-ancestors", "form-action"] {
        assert_eq!(csp[directive], "'none'", "{directive}");
    }
    let directives = csp.as_object().unwrap();
    for (directive, sources) in directives {
        for source in sources.as_str().unwrap().split_whitespace() {
            assert!(
                !["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"].contains(&source),
                "{directive} allows {source}"
            );
            // No origin on the network: the one http source is Tauri's IPC endpoint,
            // served by the app itself (the webview never connects anywhere with it).
            if source.starts_with("http:") || source.starts_with("https:") {
                assert_eq!(
                    (directive.as_str(), source),
                    ("connect-src", "http://ipc.localhost"),
                    "an origin on the network"
                );
            }
        }
    }
    assert!(
        config["build"].get("devUrl").is_none(),
        "a devUrl would load from a server"
    );
    assert_eq!(config["build"]["frontendDist"], "ui/dist");
}

/// With the real context (the capability compiled in), our command is allowed and a core
/// command the capability does not grant is refused by Tauri's ACL (before any code of
/// ours runs: its refusal is Tauri's text, which the UI wraps as `app.bad_request`).
#[test]
fn the_real_context_allows_our_commands_and_refuses_others() {
    let app = App::with(false, Some(daftar_app::context()));
    let info = app.ok("app_info", Value::Null);
    assert_eq!(info["has_profiles"], false);
    for (command, refusal) in [
        ("plugin:app|version", "app.version not allowed"),
        ("plugin:window|close", "window.close not allowed"),
        ("plugin:webview|print", "webview.print not allowed"),
        ("no_such_command", "no_such_command not allowed"),
    ] {
        let refused = app.call(command, None);
        let Err(Value::String(text)) = &refused else {
            panic!("{command} was not refused by the ACL: {refused:?}");
        };
        assert!(text.starts_with(refusal), "{command}: {text}");
    }
}
