//! Development tool: prints the colour statistics and the pixel-only colour estimate of every
//! plate crop and of every labelled scene plate box (the hand-drawn box, not the reader's
//! strip), to see how far each sits from the classifier's boundaries (docs/accuracy.md).
//!
//! `cargo run -p vigil-lpr --example colour-stats -- .cache/testdata`

use std::path::PathBuf;

use vigil_infer::ImageView;
use vigil_lpr::PixelRect;
use vigil_lpr::colour::{classify_stats, hsv, strip_stats};
use vigil_lpr::eval::labels::{load_image, scene_labels};
use vigil_lpr::geometry::sub_view;

fn show(name: &str, v: ImageView<'_>) {
    let Some(s) = strip_stats(&[v]) else {
        println!("{name}: no contrast");
        return;
    };
    let (d, l) = (hsv(s.dark.rgb), hsv(s.light.rgb));
    let est = classify_stats(&s).map_or("none".to_owned(), |e| {
        format!("{} {:.2}", e.colour.as_str(), e.confidence)
    });
    println!(
        "{name}: dark {:.2} h{:.0} s{:.2} v{:.2} | light {:.2} h{:.0} s{:.2} v{:.2} => {est}",
        s.dark.share, d.0, d.1, d.2, s.light.share, l.0, l.1, l.2
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: colour-stats TESTDATA_DIR")?,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("plates"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    files.sort();
    for f in &files {
        let img = load_image(f)?;
        show(&f.display().to_string(), img.view());
    }
    let (labels, _) = scene_labels(&root.join("scenes"))?;
    for l in labels {
        let img = load_image(&root.join("scenes").join(&l.file))?;
        let b = l.box_px;
        let rect = PixelRect {
            x: b.x1.max(0.0) as u32,
            y: b.y1.max(0.0) as u32,
            width: (b.x2 - b.x1).max(1.0) as u32,
            height: (b.y2 - b.y1).max(1.0) as u32,
        };
        let Some(v) = sub_view(img.view(), rect) else {
            println!("{} line {}: box outside the image", l.file, l.line);
            continue;
        };
        show(&format!("{} line {} ({})", l.file, l.line, l.colour), v);
    }
    Ok(())
}
