//! Draws herald's Teams icons into `manifest/` (colour 192×192, outline 32×32 white on
//! transparent): `cargo run --example icons`.

fn main() -> std::io::Result<()> {
    let (color, outline) = herald::manifest::draw_icons();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifest");
    std::fs::write(dir.join("color.png"), color)?;
    std::fs::write(dir.join("outline.png"), outline)?;
    println!("wrote {}/color.png and outline.png", dir.display());
    Ok(())
}
