//! `herald manifest --out app.zip`: the Teams app package, checked against the official schema
//! (npm `@microsoft/app-manifest`, when `HERALD_TEAMS_SCHEMA_DIR` points at its
//! `build/json-schemas/teams` folder, as `.ci/run` does), with the right bot id, domain and icons.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const SCHEMA_DIR_VAR: &str = "HERALD_TEAMS_SCHEMA_DIR";
const APP_ID: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";

/// Runs `herald manifest --out DIR/app.zip` with `settings`; (success, stderr).
fn manifest(dir: &Path, settings: &str) -> (bool, String) {
    let config = dir.join("appsettings.toml");
    std::fs::write(&config, settings).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--config")
        .arg(&config)
        .args(["manifest", "--out"])
        .arg(dir.join("app.zip"))
        .output()
        .expect("herald runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn unzip(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().to_string(), bytes)
        })
        .collect()
}

/// (width, height, RGBA pixels) of a PNG.
fn decode(png_bytes: &[u8]) -> (u32, u32, png::ColorType, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes.to_vec()))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(frame.buffer_size());
    (frame.width, frame.height, frame.color_type, pixels)
}

/// The schema's complaints about `document`.
fn errors(schema_file: &Path, document: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_file).unwrap_or_else(|e| {
            panic!(
                "{SCHEMA_DIR_VAR} is set but {} cannot be read: {e}",
                schema_file.display()
            )
        }))
        .unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .expect("the official schema compiles");
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn validate(schema_file: &Path, document: &Value) {
    let errors = errors(schema_file, document);
    assert!(
        errors.is_empty(),
        "{} is not valid: {errors:#?}",
        schema_file.display()
    );
}

#[test]
fn the_package_is_valid_and_carries_the_configured_bot() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = manifest(
        dir.path(),
        &format!(
            "[server]\npublic_url = \"https://herald.contoso.com/\"\n[bot]\napp_id = \"{}\"\n\
             [manifest]\ndeveloper_name = \"Contoso IT\"\n",
            APP_ID.to_uppercase()
        ),
    );
    assert!(ok, "{stderr}");
    let files = unzip(&dir.path().join("app.zip"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["manifest.json", "fr-fr.json", "color.png", "outline.png"],
        "all at the root"
    );
    let file = |name: &str| &files.iter().find(|(n, _)| n == name).unwrap().1;
    let manifest: Value = serde_json::from_slice(file("manifest.json")).unwrap();
    let french: Value = serde_json::from_slice(file("fr-fr.json")).unwrap();
    assert_eq!(manifest["id"], APP_ID);
    assert_eq!(manifest["bots"][0]["botId"], APP_ID);
    assert_eq!(manifest["webApplicationInfo"]["id"], APP_ID);
    assert_eq!(
        manifest["bots"][0]["scopes"],
        serde_json::json!(["personal"])
    );
    assert_eq!(
        manifest["validDomains"],
        serde_json::json!(["herald.contoso.com"])
    );
    assert_eq!(manifest["developer"]["name"], "Contoso IT");
    assert_eq!(
        manifest["developer"]["privacyUrl"],
        "https://herald.contoso.com"
    );
    assert_eq!(
        manifest["authorization"]["permissions"]["resourceSpecific"],
        serde_json::json!([{"name": "ChatMessageReadReceipt.Read.Chat", "type": "Application"}])
    );
    let commands: Vec<&str> = manifest["bots"][0]["commandLists"][0]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(commands, ["help", "lists", "campaigns", "broadcasts"]);
    assert_eq!(french["bots[0].commandLists[0].commands[0].title"], "aide");

    // Icons: colour 192×192; outline 32×32, white on transparent.
    let (w, h, _, _) = decode(file("color.png"));
    assert_eq!((w, h), (192, 192));
    let (w, h, color, pixels) = decode(file("outline.png"));
    assert_eq!((w, h, color), (32, 32, png::ColorType::Rgba));
    let mut transparent = 0;
    for p in pixels.chunks(4) {
        if p[3] == 0 {
            transparent += 1;
        } else {
            assert_eq!(&p[..3], [255, 255, 255], "outline pixels are white");
        }
    }
    assert!(
        transparent > 32 * 32 / 2,
        "mostly transparent: {transparent}"
    );
    assert!(transparent < 32 * 32, "something is drawn");

    match std::env::var(SCHEMA_DIR_VAR) {
        Ok(dir) if !dir.trim().is_empty() => {
            let version = manifest["manifestVersion"].as_str().unwrap();
            let dir = Path::new(&dir).join(format!("v{version}"));
            validate(&dir.join("MicrosoftTeams.schema.json"), &manifest);
            validate(
                &dir.join("MicrosoftTeams.Localization.schema.json"),
                &french,
            );
        }
        _ => eprintln!(
            "{SCHEMA_DIR_VAR} is not set: the manifest was not checked against the official schema \
             (see .ci/run)"
        ),
    }
}

#[test]
fn missing_settings_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, stderr) = manifest(
        dir.path(),
        "[server]\npublic_url = \"https://herald.contoso.com\"\n",
    );
    assert!(!ok);
    assert!(stderr.contains("bot.app_id is not set"), "{stderr}");
    assert!(!dir.path().join("app.zip").exists());
    let (ok, stderr) = manifest(dir.path(), &format!("[bot]\napp_id = \"{APP_ID}\"\n"));
    assert!(!ok);
    assert!(stderr.contains("server.public_url is not set"), "{stderr}");
    let (ok, stderr) = manifest(
        dir.path(),
        "[bot]\napp_id = \"my-bot\"\n[server]\npublic_url = \"https://h.example.com\"\n",
    );
    assert!(!ok);
    assert!(stderr.contains("not an app (client) id"), "{stderr}");
    let (ok, stderr) = manifest(
        dir.path(),
        &format!(
            "[bot]\napp_id = \"{APP_ID}\"\n[server]\npublic_url = \"https://h.example.com\"\n[manifest]\nprivacy_url = \"http://h.example.com/privacy\"\n"
        ),
    );
    assert!(!ok);
    assert!(stderr.contains("manifest.privacy_url"), "{stderr}");
}
