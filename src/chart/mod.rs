//! Charts of reports, drawn as SVG with plotters.

use crate::analyze::result::AnalyzeReport;
use crate::baseline::CheckReport;
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::profile::ProfileReport;
use plotters::prelude::*;

/// A report with a main chart.
pub trait Charted {
    /// The chart as an SVG document; `None` when there is nothing to draw.
    fn chart(&self) -> Option<String>;
}

impl Charted for AnalyzeReport {
    fn chart(&self) -> Option<String> {
        analyze_svg(self)
    }
}

impl Charted for CompareReport {
    fn chart(&self) -> Option<String> {
        compare_svg(self)
    }
}

impl Charted for ProfileReport {
    fn chart(&self) -> Option<String> {
        profile_svg(self)
    }
}

impl Charted for CheckReport {
    fn chart(&self) -> Option<String> {
        check_svg(self)
    }
}

impl Charted for CorpusReport {
    fn chart(&self) -> Option<String> {
        corpus_svg(self)
    }
}

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
fn analyze_svg(report: &AnalyzeReport) -> Option<String> {
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

/// `compare`'s verdict as a forest plot: how many times slower than the fastest each
/// implementation is, with its paired 95 % interval, over the shaded tie band.
fn compare_svg(report: &CompareReport) -> Option<String> {
    let rows = &report.comparison;
    if rows.is_empty() {
        return None;
    }
    let n = rows.len();
    let band = 1.0 + report.tie_threshold_percent / 100.0;
    let x_max = (rows.iter())
        .map(|r| r.fastest_speedup_ci95[1].max(r.fastest_speedup))
        .fold(band, f64::max)
        * 1.05;
    let longest = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(8) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900 + 7 * longest, 90 + 32 * n as u32))
            .into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("time per frame against the fastest (×, 95 % intervals; shaded: tied within {} %)", report.tie_threshold_percent),
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(8 + 7 * longest)
            .build_cartesian_2d(0.95..x_max, (0..n).into_segmented())
            .ok()?;
        let row = |i: usize| n - 1 - i;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(r) if *r < n => rows[n - 1 - r].name.clone(),
                _ => String::new(),
            })
            .x_desc("× the fastest's time per frame")
            .draw()
            .ok()?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (1.0, SegmentValue::Exact(0)),
                    (band, SegmentValue::Exact(n)),
                ],
                TIED.mix(0.25).filled(),
            )))
            .ok()?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let at = SegmentValue::CenterOf(row(i));
                let [low, high] = r.fastest_speedup_ci95;
                PathElement::new(vec![(low, at.clone()), (high, at)], BLACK.stroke_width(2))
            }))
            .ok()?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let colour = if r.rank == 1 || report.tied.contains(&r.name) {
                    TIED
                } else {
                    OTHER
                };
                Circle::new(
                    (r.fastest_speedup, SegmentValue::CenterOf(row(i))),
                    6,
                    colour.filled(),
                )
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// `profile`'s load over time: the mean and the worst block of every window against the
/// deadline (100 %), windows with a missed deadline marked red.
fn profile_svg(report: &ProfileReport) -> Option<String> {
    let t = &report.timeline;
    if t.timestamps.is_empty() {
        return None;
    }
    let end = t.timestamps.last().copied().unwrap_or(0.0) + 0.1;
    let y_max = t.max_cpu_over_time.iter().copied().fold(100.0, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 420)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: load per block (mean and worst of each 100 ms; red: a missed deadline)",
                    report.dsp
                ),
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end, 0.0..y_max)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("% of the block period")
            .draw()
            .ok()?;
        let series = |values: &[f64]| -> Vec<(f64, f64)> {
            t.timestamps
                .iter()
                .copied()
                .zip(values.iter().copied())
                .collect()
        };
        chart
            .draw_series(LineSeries::new(
                series(&t.max_cpu_over_time),
                OTHER.stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                series(&t.cpu_usage_over_time),
                TIED.stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 100.0), (end, 100.0)],
                RED.stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series(
                series(&t.max_cpu_over_time)
                    .into_iter()
                    .filter(|(_, load)| *load > 100.0)
                    .map(|p| Circle::new(p, 4, RED.filled())),
            )
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// `baseline check`: each entry's change in time against the baseline with its 95 % interval,
/// over the shaded tolerance band (right of it: slower).
fn check_svg(report: &CheckReport) -> Option<String> {
    let rows: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.change_percent.is_some())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let n = rows.len();
    let tolerance = report.tolerance_percent;
    let reach = (rows.iter())
        .flat_map(|r| r.change_ci95_percent.unwrap_or([0.0; 2]))
        .chain([tolerance])
        .fold(0.0, |m: f64, v| m.max(v.abs()))
        * 1.2;
    let labels: Vec<String> = (rows.iter())
        .map(|r| format!("{} {}", r.dsp, crate::options::display(&r.compiler_options)))
        .collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(8) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900 + 7 * longest, 90 + 32 * n as u32))
            .into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: change in time per block against the baseline (%, 95 % intervals; shaded: within ±{tolerance} %)", report.baseline),
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(8 + 7 * longest)
            .build_cartesian_2d(-reach..reach, (0..n).into_segmented())
            .ok()?;
        let row = |i: usize| n - 1 - i;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(r) if *r < n => labels[n - 1 - r].clone(),
                _ => String::new(),
            })
            .x_desc("% (positive: slower)")
            .draw()
            .ok()?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (-tolerance, SegmentValue::Exact(0)),
                    (tolerance, SegmentValue::Exact(n)),
                ],
                TIED.mix(0.25).filled(),
            )))
            .ok()?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let at = SegmentValue::CenterOf(row(i));
                let [low, high] = r.change_ci95_percent.unwrap_or([0.0; 2]);
                PathElement::new(vec![(low, at.clone()), (high, at)], BLACK.stroke_width(2))
            }))
            .ok()?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let change = r.change_percent.unwrap_or(0.0);
                let colour = if change > tolerance { RED } else { OTHER };
                Circle::new((change, SegmentValue::CenterOf(row(i))), 6, colour.filled())
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// `corpus`: the best set's speed-up over scalar code against scalar MB/s, one point per DSP
/// measured; the failed and skipped are listed in the report, not drawn.
fn corpus_svg(report: &CorpusReport) -> Option<String> {
    let points: Vec<(f64, f64)> = (report.entries.iter())
        .filter_map(|e| {
            let speedup = e.speedup_vs_scalar?;
            Some((e.best_mbps? / speedup, speedup))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    let x_max = points.iter().map(|p| p.0).fold(0.0, f64::max) * 1.1;
    let y_max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 520)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{}: speed-up of the best option set over scalar code, per DSP",
                    report.dir
                ),
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("scalar MB/s")
            .y_desc("best ÷ scalar (×)")
            .draw()
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 1.0), (x_max, 1.0)],
                BLACK.stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 5, OTHER.filled())))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// An SVG chart as PNG, with the system's fonts (DejaVu Sans for `sans-serif`, Debian's
/// fonts-dejavu-core), for clients that show images but not SVG.
pub fn png(svg: &str) -> Result<Vec<u8>, String> {
    let mut options = resvg::usvg::Options {
        font_family: "DejaVu Sans".into(),
        ..Default::default()
    };
    let fonts = options.fontdb_mut();
    fonts.load_system_fonts();
    fonts.set_sans_serif_family("DejaVu Sans");
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or("the chart has no area")?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| e.to_string())
}
