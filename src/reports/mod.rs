//! Reports: the campaign report use case (`campaign`), and the report files: the chart of
//! deliveries and clicks over time (a PNG drawn by herald) and the per-recipient CSV
//! (`recipients`); and the report page (`page`), an HTML view of the same.

mod campaign;
mod download;
pub mod page;
mod recipients;

pub use campaign::{CampaignReport, campaign_report, report_of};
pub use download::report_csv_stream;
pub use recipients::{recipients_csv, report_csv, report_csv_header, report_csv_lines};

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use chrono::NaiveDateTime;
use plotters::prelude::*;

/// The chart's size in pixels: wide enough for a card, small enough to load fast.
pub const CHART_SIZE: (u32, u32) = (720, 360);

/// DejaVu Sans (free licence, see `assets/fonts/DejaVu-LICENSE.txt`): the chart's labels are
/// drawn with it, so no system font is needed.
pub static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

const BLUE: RGBColor = RGBColor(0x46, 0x4e, 0xb8);
const ORANGE: RGBColor = RGBColor(0xe8, 0x7a, 0x1d);
const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
const INK: (u8, u8, u8) = (0x24, 0x24, 0x24);

/// What the chart shows.
pub struct ChartData<'a> {
    pub title: &'a str,
    /// Label and moments of the first series (deliveries) and the second (first clicks).
    pub delivered: (&'a str, &'a [NaiveDateTime]),
    pub clicked: (&'a str, &'a [NaiveDateTime]),
    /// The y axis goes at least this high (the audience).
    pub audience: i64,
    /// People per reaction type, most first: a legend line of their own when there are any.
    pub reactions: &'a [(String, i64)],
}

#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

/// Cumulative counts as steps: (seconds since `origin`, count) after each moment.
fn steps(moments: &[NaiveDateTime], origin: i64, end: i64) -> Vec<(f64, f64)> {
    let mut out = vec![(0.0, 0.0)];
    for (i, t) in moments.iter().enumerate() {
        let x = (t.and_utc().timestamp() - origin) as f64;
        out.push((x, i as f64));
        out.push((x, i as f64 + 1.0));
    }
    out.push(((end - origin) as f64, moments.len() as f64));
    out
}

/// The chart as PNG bytes.
pub fn chart_png(data: &ChartData<'_>) -> Result<Vec<u8>, ChartError> {
    let (w, h) = CHART_SIZE;
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    let all: Vec<i64> = data
        .delivered
        .1
        .iter()
        .chain(data.clicked.1)
        .map(|t| t.and_utc().timestamp())
        .collect();
    let start = all.iter().copied().min().unwrap_or(0);
    // At least an hour wide, with a little room after the last event.
    let span = (all.iter().copied().max().unwrap_or(start) - start).max(3600);
    let end = start + span + span / 20;
    let top = data
        .audience
        .max(data.delivered.1.len() as i64)
        .max(data.clicked.1.len() as i64)
        .max(1);
    let (left, right, upper, lower) = (56i32, 20i32, 44i32, 44i32);
    let y_max = top as f64 * 1.1 + 1.0;
    // Where the audience line falls, in pixels from the top.
    let top_px = upper + ((1.0 - top as f64 / y_max) * f64::from(h as i32 - upper - lower)) as i32;
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        let area = root.margin(upper as u32, lower as u32, left as u32, right as u32);
        let x_max = (end - start) as f64;
        let mut chart = ChartBuilder::on(&area)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)
            .map_err(|e| ChartError(e.to_string()))?;
        // Axes, and a light line at the audience: the labels are drawn after, as text.
        for (line, color) in [
            (vec![(0.0, 0.0), (x_max, 0.0)], GREY),
            (vec![(0.0, 0.0), (0.0, y_max)], GREY),
            (
                vec![(0.0, top as f64), (x_max, top as f64)],
                RGBColor(0xdd, 0xdd, 0xdd),
            ),
        ] {
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(1)))
                .map_err(|e| ChartError(e.to_string()))?;
        }
        for (moments, color) in [(data.delivered.1, BLUE), (data.clicked.1, ORANGE)] {
            chart
                .draw_series(LineSeries::new(
                    steps(moments, start, end),
                    color.stroke_width(3),
                ))
                .map_err(|e| ChartError(e.to_string()))?;
        }
        root.present().map_err(|e| ChartError(e.to_string()))?;
    }
    let legend = [
        (
            format!("{} ({})", data.delivered.0, data.delivered.1.len()),
            BLUE,
        ),
        (
            format!("{} ({})", data.clicked.0, data.clicked.1.len()),
            ORANGE,
        ),
    ];
    let legend_x = |i: i32| w as i32 - right - 330 + 170 * i;
    for (i, (_, color)) in legend.iter().enumerate() {
        for dy in 0..4 {
            for dx in 0..18 {
                let x = legend_x(i as i32) + dx;
                put(
                    &mut pixels,
                    (w, h),
                    x,
                    22 + dy,
                    (color.0, color.1, color.2),
                    1.0,
                );
            }
        }
    }
    let font = FontRef::try_from_slice(FONT).map_err(|e| ChartError(e.to_string()))?;
    let mut text = |x: i32, y: i32, size: f32, s: &str| {
        draw_text(&mut pixels, (w, h), &font, x, y, size, s, INK)
    };
    text(left, 28, 18.0, data.title);
    text(8, top_px + 5, 13.0, &top.to_string());
    text(36, h as i32 - lower + 4, 13.0, "0");
    let fmt = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    text(left, h as i32 - lower + 22, 13.0, &fmt(start));
    text(
        w as i32 - right - 150,
        h as i32 - lower + 22,
        13.0,
        &fmt(end),
    );
    for (i, (label, _)) in legend.iter().enumerate() {
        text(legend_x(i as i32) + 24, 28, 13.0, label);
    }
    if let Some(line) = reactions_legend(data.reactions, |s| text_width(&font, 13.0, s), w) {
        // Right-aligned under the series legend, above where the audience line can be.
        let x = w as i32 - right - text_width(&font, 13.0, &line).ceil() as i32;
        text(x, REACTIONS_BASELINE, 13.0, &line);
    }
    encode_png(&pixels, w, h)
}

/// The baseline of the reactions legend: under the series legend, inside the plot's top margin.
pub const REACTIONS_BASELINE: i32 = 48;

/// The reactions legend: `reactions: like 2  heart 1`, as many types as fit in the chart's width
/// (then `+N more`); `None` without reactions. Types come from Teams clients: only printable
/// characters are kept, at most 24 of each.
fn reactions_legend(
    reactions: &[(String, i64)],
    width_of: impl Fn(&str) -> f32,
    chart_width: u32,
) -> Option<String> {
    let entries: Vec<String> = reactions
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| {
            let kind: String = kind.chars().filter(|c| !c.is_control()).take(24).collect();
            format!("{kind} {n}")
        })
        .collect();
    if entries.is_empty() {
        return None;
    }
    let room = chart_width as f32 - 80.0;
    let mut line = "reactions:".to_string();
    for (i, entry) in entries.iter().enumerate() {
        let more = entries.len() - i - 1;
        let candidate = format!("{line}  {entry}");
        let tail = if more > 0 {
            format!("  +{more} more")
        } else {
            String::new()
        };
        if width_of(&format!("{candidate}{tail}")) > room {
            return Some(format!("{line}  +{} more", entries.len() - i));
        }
        line = candidate;
    }
    Some(line)
}

/// How wide `s` is drawn at `px` pixels.
fn text_width(font: &FontRef<'_>, px: f32, s: &str) -> f32 {
    let scaled = font.as_scaled(PxScale::from(px));
    let mut width = 0.0;
    let mut previous = None;
    for ch in s.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = previous {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        previous = Some(id);
    }
    width
}

fn put(pixels: &mut [u8], (w, h): (u32, u32), x: i32, y: i32, c: (u8, u8, u8), alpha: f32) {
    if x < 0 || y < 0 || x >= w as i32 || y >= h as i32 {
        return;
    }
    let i = ((y as u32 * w + x as u32) * 3) as usize;
    let a = alpha.clamp(0.0, 1.0);
    for (k, v) in [c.0, c.1, c.2].into_iter().enumerate() {
        let old = f32::from(pixels[i + k]);
        pixels[i + k] = (old + (f32::from(v) - old) * a).round() as u8;
    }
}

/// Draws `s` with its baseline at `y`, from `x`.
#[allow(clippy::too_many_arguments)]
fn draw_text(
    pixels: &mut [u8],
    size: (u32, u32),
    font: &FontRef<'_>,
    x: i32,
    y: i32,
    px: f32,
    s: &str,
    color: (u8, u8, u8),
) {
    let scaled = font.as_scaled(PxScale::from(px));
    let mut caret = x as f32;
    let mut previous = None;
    for ch in s.chars() {
        let id = scaled.glyph_id(ch);
        if let Some(p) = previous {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(px, point(caret, y as f32));
        caret += scaled.h_advance(id);
        previous = Some(id);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, coverage| {
                put(
                    pixels,
                    size,
                    b.min.x as i32 + gx as i32,
                    b.min.y as i32 + gy as i32,
                    color,
                    coverage,
                );
            });
        }
    }
}

fn encode_png(pixels: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| ChartError(e.to_string()))?;
        writer
            .write_image_data(pixels)
            .map_err(|e| ChartError(e.to_string()))?;
    }
    Ok(out)
}

/// A progress bar as text: `▓▓▓▓▓░░░░░ 50%`.
pub fn progress_bar(done: i64, total: i64) -> String {
    let pct = if total > 0 {
        (done.clamp(0, total) * 100) / total
    } else {
        0
    };
    let filled = (pct / 10) as usize;
    format!("{}{} {pct}%", "▓".repeat(filled), "░".repeat(10 - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_795_000_000 + min * 60, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn the_chart_is_a_png_of_the_right_size() {
        let delivered: Vec<_> = (0..30).map(at).collect();
        let clicked: Vec<_> = (5..12).map(at).collect();
        let png = chart_png(&ChartData {
            title: "welcome",
            delivered: ("delivered", &delivered),
            clicked: ("clicked", &clicked),
            audience: 40,
            reactions: &[],
        })
        .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), CHART_SIZE);
        assert!(png.len() > 2_000 && png.len() < 200_000, "{}", png.len());
        // Nothing to show yet still draws.
        chart_png(&ChartData {
            title: "empty",
            delivered: ("delivered", &[]),
            clicked: ("clicked", &[]),
            audience: 0,
            reactions: &[],
        })
        .unwrap();
    }

    fn pixels(png: &[u8]) -> Vec<u8> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut out = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut out).unwrap();
        out
    }

    #[test]
    fn reactions_get_a_legend_line_of_their_own() {
        let delivered: Vec<_> = (0..30).map(at).collect();
        let clicked: Vec<_> = (5..12).map(at).collect();
        let draw = |reactions: &[(String, i64)]| {
            pixels(
                &chart_png(&ChartData {
                    title: "welcome",
                    delivered: ("delivered", &delivered),
                    clicked: ("clicked", &clicked),
                    audience: 40,
                    reactions,
                })
                .unwrap(),
            )
        };
        let plain = draw(&[]);
        let with = draw(&[("like".into(), 2), ("heart".into(), 1)]);
        let rows: Vec<u32> = (0..plain.len() / 3)
            .filter(|&i| plain[i * 3..i * 3 + 3] != with[i * 3..i * 3 + 3])
            .map(|i| i as u32 / CHART_SIZE.0)
            .collect();
        assert!(
            rows.len() > 100,
            "the legend is drawn: {} pixels",
            rows.len()
        );
        let band = (REACTIONS_BASELINE - 14) as u32..=(REACTIONS_BASELINE + 4) as u32;
        assert!(rows.iter().all(|y| band.contains(y)), "only in its band");
        // No reaction counted: no legend.
        assert_eq!(draw(&[("like".into(), 0)]), plain);
    }

    #[test]
    fn the_reactions_legend_says_counts_and_what_did_not_fit() {
        let width = |s: &str| s.chars().count() as f32 * 7.0;
        let two = [("like".to_string(), 2), ("heart".to_string(), 1)];
        assert_eq!(
            reactions_legend(&two, width, 720).as_deref(),
            Some("reactions:  like 2  heart 1")
        );
        assert_eq!(reactions_legend(&[], width, 720), None);
        let many: Vec<(String, i64)> = (0..20).map(|i| (format!("kind{i:02}"), 20 - i)).collect();
        let line = reactions_legend(&many, width, 720).unwrap();
        assert!(
            line.starts_with("reactions:  kind00 20  kind01 19"),
            "{line}"
        );
        assert!(line.ends_with(" more") && width(&line) <= 640.0, "{line}");
        let odd = [("bell\n\u{7}".to_string(), 1)];
        assert_eq!(
            reactions_legend(&odd, width, 720).as_deref(),
            Some("reactions:  bell 1")
        );
    }

    #[test]
    fn progress_bars() {
        assert_eq!(progress_bar(9, 18), "▓▓▓▓▓░░░░░ 50%");
        assert_eq!(progress_bar(0, 0), "░░░░░░░░░░ 0%");
        assert_eq!(progress_bar(18, 18), "▓▓▓▓▓▓▓▓▓▓ 100%");
    }
}
