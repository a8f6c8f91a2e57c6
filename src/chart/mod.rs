//! Charts of reports, drawn as SVG with plotters.

use crate::analyze::result::AnalyzeReport;
use plotters::prelude::*;

/// Bar colours: the fastest and the sets tied with it, the scalar baseline, the others.
const TIED: RGBColor = RGBColor(46, 139, 87);
const BASELINE: RGBColor = RGBColor(230, 145, 56);
const OTHER: RGBColor = RGBColor(100, 130, 180);

/// The colours of the bars, for those who count them.
pub const BAR_COLOURS: [RGBColor; 3] = [TIED, BASELINE, OTHER];

/// `analyze`'s ranking: a horizontal bar of MB/s per measured set, fastest on top, with its
/// 95 % interval as a whisker; the fastest and the sets tied with it in green, the scalar
/// baseline in orange, the recommended set marked in its label. `None` when nothing was
/// measured.
pub fn analyze_svg(report: &AnalyzeReport) -> Option<String> {
    let results = &report.results;
    if results.is_empty() {
        return None;
    }
    let n = results.len();
    let labels: Vec<String> = results
        .iter()
        .map(|r| {
            let mark = if r.is_recommended {
                "  ← recommended"
            } else {
                ""
            };
            format!("{}{mark}", r.name())
        })
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10) as u32;
    let x_max = results
        .iter()
        .map(|r| r.throughput_ci95_mbps[1].max(r.throughput_mbps))
        .fold(0.0, f64::max)
        * 1.08;
    let (width, height) = (900 + 7 * longest, 90 + 28 * n as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: MB/s per option set (95 % intervals; green: fastest and tied within noise; orange: scalar baseline)", report.dsp),
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(8 + 7 * longest)
            .build_cartesian_2d(0.0..x_max, (0..n).into_segmented())
            .ok()?;
        // Row 0 is at the bottom: the fastest goes in the top row.
        let row = |i: usize| n - 1 - i;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(r) if *r < n => labels[n - 1 - r].clone(),
                _ => String::new(),
            })
            .x_desc("MB/s")
            .draw()
            .ok()?;
        chart
            .draw_series(results.iter().enumerate().map(|(i, r)| {
                let colour = if r.tied_with_best || r.rank == 1 {
                    TIED
                } else if r.is_baseline {
                    BASELINE
                } else {
                    OTHER
                };
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row(i))),
                        (r.throughput_mbps, SegmentValue::Exact(row(i) + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .ok()?;
        chart
            .draw_series(results.iter().enumerate().map(|(i, r)| {
                let [low, high] = r.throughput_ci95_mbps;
                let at = SegmentValue::CenterOf(row(i));
                PathElement::new(vec![(low, at.clone()), (high, at)], BLACK.stroke_width(2))
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}
