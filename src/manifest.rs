//! The Teams app package: `manifest.json` filled from the settings the service runs with (so
//! the bot id in Teams and in herald cannot differ), its French localisation and herald's two
//! icons, zipped at the root for IT to upload as a custom app.

use std::io::Write;
use std::path::Path;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use serde_json::json;

use crate::config::Settings;

/// The Teams manifest schema version the template follows.
pub const MANIFEST_VERSION: &str = "1.24";

const TEMPLATE: &str = include_str!("../manifest/manifest.json");
const FRENCH: &str = include_str!("../manifest/fr-fr.json");
/// The icons, drawn by [`draw_icons`] (`cargo run --example icons` writes them again).
pub const COLOR_ICON: &[u8] = include_bytes!("../manifest/color.png");
pub const OUTLINE_ICON: &[u8] = include_bytes!("../manifest/outline.png");

/// Why no package could be made; each names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "bot.app_id is not set: set it (or MicrosoftAppId) to the bot's Microsoft Entra app (client) id"
    )]
    NoAppId,
    #[error(
        "bot.app_id `{0}` is not an app (client) id: Teams needs a GUID such as 00000000-0000-0000-0000-000000000000"
    )]
    AppIdNotGuid(String),
    #[error(
        "server.public_url is not set: set it to the https address Teams reaches herald at (its host goes in validDomains)"
    )]
    NoPublicUrl,
    #[error("manifest.{key} `{value}` is not an https URL")]
    NotHttps { key: &'static str, value: String },
    #[error("the manifest template could not be filled: {0}")]
    Template(String),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// The package's files, by name.
pub struct Package {
    pub files: Vec<(&'static str, Vec<u8>)>,
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn https(key: &'static str, value: &str, fallback: &str) -> Result<String, ManifestError> {
    let v = if value.trim().is_empty() {
        fallback
    } else {
        value.trim()
    };
    match url::Url::parse(v) {
        Ok(u) if u.scheme() == "https" => Ok(v.to_string()),
        _ => Err(ManifestError::NotHttps {
            key,
            value: v.to_string(),
        }),
    }
}

/// Fills the template from `settings`.
pub fn build(settings: &Settings) -> Result<Package, ManifestError> {
    let app_id = settings.bot.app_id.trim().to_lowercase();
    if app_id.is_empty() {
        return Err(ManifestError::NoAppId);
    }
    if !is_guid(&app_id) {
        return Err(ManifestError::AppIdNotGuid(app_id));
    }
    let public = settings
        .server
        .public_url
        .as_ref()
        .ok_or(ManifestError::NoPublicUrl)?;
    let domain = public
        .host_str()
        .ok_or(ManifestError::NoPublicUrl)?
        .to_string();
    let site = format!("https://{domain}");
    let m = &settings.manifest;
    let values = json!({
        "manifest_version": MANIFEST_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
        "app_id": app_id,
        "domain": domain,
        "developer_name": m.developer_name.trim(),
        "website_url": https("website_url", &m.website_url, &site)?,
        "privacy_url": https("privacy_url", &m.privacy_url, &site)?,
        "terms_url": https("terms_url", &m.terms_url, &site)?,
    });
    let mut hb = handlebars::Handlebars::new();
    hb.set_strict_mode(true);
    // Values go into JSON strings: escape them for JSON, not HTML.
    hb.register_escape_fn(|s| {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        quoted[1..quoted.len().saturating_sub(1)].to_string()
    });
    let render = |t: &str| {
        hb.render_template(t, &values)
            .map_err(|e| ManifestError::Template(e.to_string()))
    };
    let manifest = render(TEMPLATE)?;
    let french = render(FRENCH)?;
    Ok(Package {
        files: vec![
            ("manifest.json", manifest.into_bytes()),
            ("fr-fr.json", french.into_bytes()),
            ("color.png", COLOR_ICON.to_vec()),
            ("outline.png", OUTLINE_ICON.to_vec()),
        ],
    })
}

impl Package {
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
    }

    /// Writes the zip, every file at its root.
    pub fn write_zip(&self, path: &Path) -> Result<(), ManifestError> {
        let write_err = |source| ManifestError::Write {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::create(path).map_err(write_err)?;
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in &self.files {
            zip.start_file(*name, options)?;
            zip.write_all(bytes).map_err(write_err)?;
        }
        zip.finish()?;
        Ok(())
    }
}

/// herald's icons: the colour one (192×192, a white "h" on herald's indigo) and the outline
/// one (32×32, the white "h" on transparent), as PNG.
pub fn draw_icons() -> (Vec<u8>, Vec<u8>) {
    (icon(192, Some((0x46, 0x4e, 0xb8))), icon(32, None))
}

/// A square icon with a white "h" filling most of it, on `background` or transparent.
fn icon(size: u32, background: Option<(u8, u8, u8)>) -> Vec<u8> {
    // RGBA; the font is the one the charts use.
    let mut pixels = vec![0u8; (size * size * 4) as usize];
    if let Some((r, g, b)) = background {
        for p in pixels.chunks_mut(4) {
            p.copy_from_slice(&[r, g, b, 255]);
        }
    }
    let font = FontRef::try_from_slice(crate::reports::FONT).expect("the embedded font loads");
    let px = size as f32 * if background.is_some() { 1.0 } else { 1.2 };
    let scaled = font.as_scaled(PxScale::from(px));
    let id = scaled.glyph_id('h');
    let glyph = id.with_scale_and_position(px, point(0.0, 0.0));
    if let Some(outlined) = font.outline_glyph(glyph) {
        let b = outlined.px_bounds();
        // Centred.
        let dx = (size as f32 - b.width()) / 2.0;
        let dy = (size as f32 - b.height()) / 2.0;
        outlined.draw(|gx, gy, coverage| {
            let (x, y) = ((gx as f32 + dx) as i64, (gy as f32 + dy) as i64);
            if x < 0 || y < 0 || x >= size as i64 || y >= size as i64 {
                return;
            }
            let i = ((y as u32 * size + x as u32) * 4) as usize;
            let a = coverage.clamp(0.0, 1.0);
            if background.is_some() {
                for k in 0..3 {
                    let old = f32::from(pixels[i + k]);
                    pixels[i + k] = (old + (255.0 - old) * a).round() as u8;
                }
            } else {
                // White, with the coverage as opacity: Teams' outline icons are white on
                // transparent and nothing else.
                let alpha = (a * 255.0).round() as u8;
                let alpha = pixels[i + 3].max(alpha);
                pixels[i..i + 4].copy_from_slice(&[255, 255, 255, alpha]);
            }
        });
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header into memory");
        writer
            .write_image_data(&pixels)
            .expect("PNG data into memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_icons_are_the_drawn_ones() {
        let (color, outline) = draw_icons();
        assert!(
            color == COLOR_ICON && outline == OUTLINE_ICON,
            "manifest/*.png are stale: run `cargo run --example icons`"
        );
    }

    #[test]
    fn the_bot_receives_files_for_list_import() {
        let manifest: serde_json::Value = serde_json::from_str(TEMPLATE).unwrap();
        assert_eq!(manifest["bots"][0]["supportsFiles"], true);
    }

    #[test]
    fn guids() {
        assert!(is_guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        assert!(!is_guid("3f2504e0-4f89-11d3-9a0c-0305e82c330"));
        assert!(!is_guid("herald"));
    }
}
