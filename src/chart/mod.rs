//! Charts of reports, drawn as SVG with plotters; PNG of them for clients that show images.

use crate::analyze::result::{AnalyzeReport, SetResult};
use crate::baseline::CheckReport;
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::inspect::InspectReport;
use crate::measure::StopReason;
use crate::profile::ProfileReport;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// A report with a main chart.
pub trait Charted {
    /// The chart as an SVG document; `None` when there is nothing to draw.
    fn chart(&self) -> Option<String>;
}

/// Bar colours: the fastest and the sets tied with it, the scalar baseline, the others.
const TIED: RGBColor = RGBColor(46, 139, 87);
const BASELINE: RGBColor = RGBColor(230, 145, 56);
const OTHER: RGBColor = RGBColor(100, 130, 180);

/// With several backends, each backend's colour (llvm, cpp, wasm, interp) and its name.
const BACKEND_COLOUR_NAMES: [&str; 4] = ["blue", "green", "orange", "purple"];
const BACKEND_COLOURS: [RGBColor; 4] = [
    RGBColor(100, 130, 180),
    RGBColor(46, 139, 87),
    RGBColor(230, 145, 56),
    RGBColor(150, 100, 170),
];

/// The colours of the bars, for those who count them.
pub const BAR_COLOURS: [RGBColor; 6] = [
    TIED,
    BASELINE,
    OTHER,
    BACKEND_COLOURS[1],
    BACKEND_COLOURS[2],
    BACKEND_COLOURS[3],
];

/// The colours of the instruction kinds of `inspect`'s chart, in the order of
/// [`crate::ir::InstructionCounts::by_kind`].
pub const KIND_COLOURS: [RGBColor; 9] = [
    RGBColor(46, 139, 87),
    RGBColor(200, 60, 60),
    RGBColor(100, 130, 180),
    RGBColor(150, 100, 170),
    RGBColor(230, 145, 56),
    RGBColor(140, 110, 80),
    RGBColor(220, 120, 170),
    RGBColor(60, 170, 190),
    RGBColor(170, 170, 170),
];

/// A chart with one labelled row per item, as `rows` draws into.
type Rows<'a> =
    ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, SegmentedCoord<RangedCoordusize>>>;

/// An SVG document of `size` pixels, white, with what `draw` draws on it.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Option<()>,
) -> Option<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).ok()?;
        draw(&root)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A chart of one row per label (as tall as `min_rows` rows at least), the first on top, over `x`;
/// `draw` draws the items, item `i`
/// at `SegmentValue::CenterOf(row(i))` (or between `Exact(row(i))` and `Exact(row(i) + 1)`).
fn rows(
    title: String,
    labels: &[String],
    min_rows: usize,
    x: Range<f64>,
    x_desc: &str,
    draw: impl FnOnce(&mut Rows<'_>, &dyn Fn(usize) -> usize) -> Option<()>,
) -> Option<String> {
    svg(rows_size(labels, min_rows), |root| {
        rows_on(root, title, labels, x, x_desc, draw)
    })
}

/// The size of [`rows`]' chart.
fn rows_size(labels: &[String], min_rows: usize) -> (u32, u32) {
    (
        900 + 7 * longest(labels),
        90 + 30 * labels.len().max(min_rows) as u32,
    )
}

/// Characters of the longest label (8 without labels).
fn longest(labels: &[String]) -> u32 {
    labels.iter().map(|l| l.chars().count()).max().unwrap_or(8) as u32
}

/// [`rows`] drawn on `area`.
fn rows_on(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: String,
    labels: &[String],
    x: Range<f64>,
    x_desc: &str,
    draw: impl FnOnce(&mut Rows<'_>, &dyn Fn(usize) -> usize) -> Option<()>,
) -> Option<()> {
    let n = labels.len();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(8 + 7 * longest(labels))
        // Keys 0..=m make m + 1 segments: n rows need 0..n-1 (one row still needs two keys).
        .build_cartesian_2d(x, (0..n.max(2) - 1).into_segmented())
        .ok()?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(r) if *r < n => labels[n - 1 - r].clone(),
            _ => String::new(),
        })
        .x_desc(x_desc)
        .draw()
        .ok()?;
    // Row 0 is at the bottom: the first item goes in the top row.
    draw(&mut chart, &|i| n - 1 - i)
}

/// Whiskers from `low` to `high` of each item, in black.
fn whiskers(chart: &mut Rows<'_>, row: &dyn Fn(usize) -> usize, spans: &[[f64; 2]]) -> Option<()> {
    chart
        .draw_series(spans.iter().enumerate().map(|(i, &[low, high])| {
            let at = SegmentValue::CenterOf(row(i));
            PathElement::new(vec![(low, at.clone()), (high, at)], BLACK.stroke_width(2))
        }))
        .ok()?;
    Some(())
}

/// A bar in `row` from `low` to `high`, with a gap to the rows beside it.
fn bar(row: usize, low: f64, high: f64, colour: RGBColor) -> Rectangle<(f64, SegmentValue<usize>)> {
    let mut bar = Rectangle::new(
        [
            (low, SegmentValue::Exact(row)),
            (high, SegmentValue::Exact(row + 1)),
        ],
        colour.filled(),
    );
    bar.set_margin(4, 4, 0, 0);
    bar
}

/// `colour` a third as strong, on white.
fn faded(RGBColor(r, g, b): RGBColor) -> RGBColor {
    let fade = |c: u8| 255 - (255 - c) / 3;
    RGBColor(fade(r), fade(g), fade(b))
}

/// A shaded band from `low` to `high` across every row.
fn band(chart: &mut Rows<'_>, n: usize, low: f64, high: f64) -> Option<()> {
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [
                (low, SegmentValue::Exact(0)),
                (high, SegmentValue::Exact(n)),
            ],
            TIED.mix(0.25).filled(),
        )))
        .ok()?;
    Some(())
}

/// `analyze`'s ranking: a horizontal bar of MB/s per measured set, fastest on top, with its
/// 95 % interval as a whisker; the fastest and the sets tied with it in green, the scalar
/// baseline in orange, the recommended set marked in its label. With several backends, the
/// bars are grouped by option set, a colour per backend. `None` when nothing was measured.
impl Charted for AnalyzeReport {
    fn chart(&self) -> Option<String> {
        if self.results.is_empty() {
            return None;
        }
        let mut results: Vec<&SetResult> = self.results.iter().collect();
        if let Some(s) = &self.side_by_side {
            results.sort_by_key(|r| {
                let set =
                    (s.sets.iter()).position(|row| row.compiler_options == r.compiler_options);
                (set, s.backends.iter().position(|b| *b == r.backend))
            });
        }
        let labels: Vec<String> = (results.iter())
            .map(|r| {
                let mark = if r.is_recommended {
                    "  ← recommended"
                } else if r.rank == 1 {
                    "  ← fastest"
                } else {
                    ""
                };
                format!("{}{mark}", r.name())
            })
            .collect();
        let x_max = (results.iter())
            .map(|r| r.throughput_ci95_mbps[1].max(r.throughput_mbps))
            .fold(0.0, f64::max)
            * 1.08;
        let title = match &self.side_by_side {
            Some(s) => format!(
                "{}: MB/s per option set and backend (95 % intervals; {})",
                self.dsp,
                (s.backends.iter())
                    .map(|&b| format!("{b} {}", BACKEND_COLOUR_NAMES[b as usize]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("{}: MB/s per option set (95 % intervals; green: fastest and tied within noise; orange: scalar baseline)", self.dsp),
        };
        // A search's path: the sets that left the race early, faded.
        let title = match &self.search {
            Some(s) => format!("{title}; {} search, faded: left the race early", s.strategy),
            None => title,
        };
        let grouped = self.side_by_side.is_some();
        rows(title, &labels, 0, 0.0..x_max, "MB/s", |chart, row| {
            chart
                .draw_series(results.iter().enumerate().map(|(i, r)| {
                    let colour = if grouped {
                        BACKEND_COLOURS[r.backend as usize]
                    } else if r.tied_with_best || r.rank == 1 {
                        TIED
                    } else if r.is_baseline {
                        BASELINE
                    } else {
                        OTHER
                    };
                    let colour = if r.stop_reason == StopReason::OutOfRace {
                        faded(colour)
                    } else {
                        colour
                    };
                    bar(row(i), 0.0, r.throughput_mbps, colour)
                }))
                .ok()?;
            let spans: Vec<[f64; 2]> = results.iter().map(|r| r.throughput_ci95_mbps).collect();
            whiskers(chart, row, &spans)
        })
    }
}

/// `compare`'s verdict as a forest plot: how many times slower than the fastest each
/// implementation is, with its paired 95 % interval, over the shaded tie band.
impl Charted for CompareReport {
    fn chart(&self) -> Option<String> {
        let items = &self.comparison;
        if items.is_empty() {
            return None;
        }
        let tie = 1.0 + self.tie_threshold_percent / 100.0;
        let x_max = (items.iter())
            .map(|r| r.fastest_speedup_ci95[1].max(r.fastest_speedup))
            .fold(tie, f64::max)
            * 1.05;
        let labels: Vec<String> = items.iter().map(|r| r.name.clone()).collect();
        let title = format!(
            "time per frame against the fastest (×, 95 % intervals; shaded: tied within {} %)",
            self.tie_threshold_percent
        );
        let speeds = |area: &DrawingArea<SVGBackend<'_>, Shift>| {
            rows_on(
                area,
                title,
                &labels,
                0.95..x_max,
                "× the fastest's time per frame",
                |chart, row| {
                    band(chart, items.len(), 1.0, tie)?;
                    let spans: Vec<[f64; 2]> =
                        items.iter().map(|r| r.fastest_speedup_ci95).collect();
                    whiskers(chart, row, &spans)?;
                    chart
                        .draw_series(items.iter().enumerate().map(|(i, r)| {
                            let tied = r.rank == 1 || self.tied_with.contains(&r.name);
                            let colour = if tied { TIED } else { OTHER };
                            Circle::new(
                                (r.fastest_speedup, SegmentValue::CenterOf(row(i))),
                                6,
                                colour.filled(),
                            )
                        }))
                        .ok()?;
                    Some(())
                },
            )
        };
        let (width, height) = rows_size(&labels, 0);
        if items.iter().all(|r| r.response.is_none()) {
            return svg((width, height), speeds);
        }
        svg((width, height + RESPONSES_HEIGHT), |root| {
            let (top, bottom) = root.split_vertically(height);
            speeds(&top)?;
            responses(&bottom, self)
        })
    }
}

/// Height of the chart of magnitude responses under `compare`'s.
const RESPONSES_HEIGHT: u32 = 460;

/// `compare`'s second chart: every implementation's magnitude response (first channel) over
/// the band, overlaid on a log frequency axis, each in its colour with its name in the key.
fn responses(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &CompareReport) -> Option<()> {
    let curves: Vec<(&str, &[[f64; 2]])> = (report.comparison.iter())
        .filter_map(|r| {
            Some((
                r.name.as_str(),
                r.response.as_ref()?.magnitude_db.as_slice(),
            ))
        })
        .collect();
    let points = || curves.iter().flat_map(|(_, c)| c.iter());
    let hz = |p: &[f64; 2]| p[0];
    let (low, high) = (
        points().map(hz).fold(f64::INFINITY, f64::min),
        points().map(hz).fold(0.0, f64::max),
    );
    let top = points().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max);
    let bottom = points().map(|p| p[1]).fold(f64::INFINITY, f64::min);
    let title = format!(
        "magnitude responses (first channel; from a 1 s impulse response), against {}",
        report.reference
    );
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (low..high.max(low * 2.0)).log_scale(),
            bottom - 3.0..top + 3.0,
        )
        .ok()?;
    chart
        .configure_mesh()
        .x_desc("Hz")
        .y_desc("dB")
        .draw()
        .ok()?;
    for (i, (name, curve)) in curves.iter().enumerate() {
        let colour = BACKEND_COLOURS[i % BACKEND_COLOURS.len()];
        let points = curve.iter().map(|p| (p[0], p[1]));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .ok()?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .ok()
}

/// `baseline check`: each entry's change in time against the baseline with its 95 % interval,
/// over the shaded tolerance band (right of it: slower, in red).
impl Charted for CheckReport {
    fn chart(&self) -> Option<String> {
        let items: Vec<_> = self
            .rows
            .iter()
            .filter(|r| r.change_percent.is_some())
            .collect();
        if items.is_empty() {
            return None;
        }
        let tolerance = self.tolerance_percent;
        // Instruction counts have no interval: the change itself.
        let spans: Vec<[f64; 2]> = (items.iter())
            .map(|r| {
                let change = r.change_percent.unwrap_or(0.0);
                r.change_ci95_percent.unwrap_or([change; 2])
            })
            .collect();
        let reach = (spans.iter().flatten().copied())
            .chain([tolerance])
            .fold(0.0, |m: f64, v| m.max(v.abs()))
            * 1.2;
        let labels: Vec<String> = (items.iter())
            .map(|r| format!("{} {}", r.dsp, crate::options::display(&r.compiler_options)))
            .collect();
        let title = format!(
            "{}: change in time per block against the baseline (%, 95 % intervals; shaded: within ±{tolerance} %)",
            self.baseline
        );
        rows(
            title,
            &labels,
            0,
            -reach..reach,
            "% (positive: slower)",
            |chart, row| {
                band(chart, items.len(), -tolerance, tolerance)?;
                whiskers(chart, row, &spans)?;
                chart
                    .draw_series(items.iter().enumerate().map(|(i, r)| {
                        let change = r.change_percent.unwrap_or(0.0);
                        let colour = if change > tolerance { RED } else { OTHER };
                        Circle::new((change, SegmentValue::CenterOf(row(i))), 6, colour.filled())
                    }))
                    .ok()?;
                Some(())
            },
        )
    }
}

/// A chart over `x` and `y`, as [`plane`] draws it.
type Plane<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart over `x` and `y` with its axes named in `area`, as `draw` draws into.
fn plane(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: String,
    x: Range<f64>,
    y: Range<f64>,
    (x_desc, y_desc): (&str, &str),
    draw: impl FnOnce(&mut Plane<'_, '_>) -> Option<()>,
) -> Option<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)
        .ok()?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .ok()?;
    draw(&mut chart)
}

/// A load axis scaled to the highest `loads` (%) rather than to the deadline, so that a light
/// DSP is not a flat line at the bottom: its top, and where the deadline (100 %) lies when it
/// is off the axis, in words for the title.
fn load_axis(loads: impl Iterator<Item = f64>) -> (f64, Option<String>) {
    let highest = loads.fold(0.0, f64::max);
    if highest * 1.25 >= 100.0 {
        return (highest.max(100.0) * 1.1, None);
    }
    let note = format!(
        "; the deadline (100 %) is off the axis, {:.0}× the worst block",
        100.0 / highest.max(1e-9)
    );
    ((highest * 1.25).max(1e-3), Some(note))
}

/// `profile`'s load over time: the mean and the worst block of every window against the
/// deadline (100 %, drawn when it is on the axis), windows with a missed deadline marked red;
/// below it, the block-size probe: the 99th-percentile and the slowest block's load at each
/// block size. Both axes scale to the load.
impl Charted for ProfileReport {
    fn chart(&self) -> Option<String> {
        let t = &self.timeline;
        let end = t.timestamps.last()? + 0.1;
        let (y_max, off_axis) = load_axis(t.max_cpu_over_time.iter().copied());
        let series = |values: &[f64]| -> Vec<(f64, f64)> {
            t.timestamps
                .iter()
                .copied()
                .zip(values.iter().copied())
                .collect()
        };
        let deadline =
            |to: f64| LineSeries::new(vec![(0.0, 100.0), (to, 100.0)], RED.stroke_width(1));
        svg((1000, 760), |root| {
            let (top, bottom) = root.split_vertically(460);
            let title = format!(
                "{}: load per block (mean and worst of each 100 ms; red: a missed deadline{})",
                self.dsp,
                off_axis.as_deref().unwrap_or("")
            );
            plane(
                &top,
                title,
                0.0..end,
                0.0..y_max,
                ("seconds", "% of the block period"),
                |chart| {
                    let worst = series(&t.max_cpu_over_time);
                    chart
                        .draw_series(LineSeries::new(worst.clone(), OTHER.stroke_width(1)))
                        .ok()?;
                    let mean = series(&t.cpu_usage_over_time);
                    chart
                        .draw_series(LineSeries::new(mean, TIED.stroke_width(2)))
                        .ok()?;
                    if off_axis.is_none() {
                        chart.draw_series(deadline(end)).ok()?;
                    }
                    let missed = worst.into_iter().filter(|(_, load)| *load > 100.0);
                    chart
                        .draw_series(missed.map(|p| Circle::new(p, 4, RED.filled())))
                        .ok()?;
                    Some(())
                },
            )?;
            let probe = &self.block_sizes;
            if !probe.is_empty() {
                let frames = |p: &crate::realtime::BlockSizeProbe| (p.frames as f64).log2();
                let x_max = probe.iter().map(frames).fold(1.0, f64::max) + 1.0;
                let (y_max, off_axis) = load_axis(probe.iter().map(|p| p.max_load_percent));
                let title = format!(
                    "block sizes: load of the 99th-percentile (green) and slowest (blue) block{}",
                    off_axis.as_deref().unwrap_or("")
                );
                plane(
                    &bottom,
                    title,
                    0.0..x_max,
                    0.0..y_max,
                    ("log2 of frames per block", "% of the block period"),
                    |chart| {
                        let p99: Vec<(f64, f64)> = probe
                            .iter()
                            .map(|p| (frames(p), p.p99_load_percent))
                            .collect();
                        let max: Vec<(f64, f64)> = probe
                            .iter()
                            .map(|p| (frames(p), p.max_load_percent))
                            .collect();
                        chart
                            .draw_series(LineSeries::new(max, OTHER.stroke_width(1)))
                            .ok()?;
                        chart
                            .draw_series(LineSeries::new(p99, TIED.stroke_width(2)))
                            .ok()?;
                        if off_axis.is_none() {
                            chart.draw_series(deadline(x_max)).ok()?;
                        }
                        Some(())
                    },
                )?;
            }
            Some(())
        })
    }
}

/// `corpus`: the best set's speed-up over scalar code against scalar MB/s, one point per DSP
/// measured; the failed and skipped are listed in the report, not drawn.
impl Charted for CorpusReport {
    fn chart(&self) -> Option<String> {
        let points: Vec<(f64, f64)> = (self.entries.iter())
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
        let title = format!(
            "{}: speed-up of the best option set over scalar code, per DSP",
            self.dir
        );
        svg((1000, 460), |root| {
            plane(
                root,
                title,
                0.0..x_max,
                0.0..y_max,
                ("scalar MB/s", "best ÷ scalar (×)"),
                |chart| {
                    let one = vec![(0.0, 1.0), (x_max, 1.0)];
                    chart
                        .draw_series(LineSeries::new(one, BLACK.stroke_width(1)))
                        .ok()?;
                    chart
                        .draw_series(points.iter().map(|&p| Circle::new(p, 5, OTHER.filled())))
                        .ok()?;
                    Some(())
                },
            )
        })
    }
}

/// `inspect`: the instructions per frame of each option set as a bar split by kind (float
/// arithmetic, divisions, loads, …), from LLVM's IR, with a black dot at the generated code's
/// machine instructions counted per frame (`--counters`). `None` when no set has a frame loop.
impl Charted for InspectReport {
    fn chart(&self) -> Option<String> {
        let sets: Vec<_> = (self.sets.iter())
            .filter_map(|s| Some((s, s.work.per_frame.as_ref()?)))
            .collect();
        if sets.is_empty() {
            return None;
        }
        let labels: Vec<String> = (sets.iter())
            .map(|(s, _)| crate::options::display(&s.compiler_options).to_string())
            .collect();
        let measured: Vec<Option<f64>> = (sets.iter())
            .map(|(s, _)| Some(s.measured.as_ref()?.counts.generated_instructions_per_frame))
            .collect();
        // Room on the right for the legend.
        let x_max = (sets.iter().map(|(_, c)| c.total))
            .chain(measured.iter().flatten().copied())
            .fold(0.0, f64::max)
            * 1.45;
        let title = format!(
            "{}: instructions per frame by kind (LLVM IR, static count){}",
            self.dsp,
            if measured.iter().any(Option::is_some) {
                "; dot: the generated code's machine instructions counted under callgrind"
            } else {
                ""
            }
        );
        // Tall enough for the legend's nine kinds.
        rows(
            title,
            &labels,
            6,
            0.0..x_max,
            "instructions per frame",
            |chart, row| {
                for (kind, colour) in KIND_COLOURS.iter().enumerate() {
                    // Each set's bar for this kind starts where the kinds before it end.
                    let segments = sets.iter().enumerate().filter_map(|(i, (_, counts))| {
                        let kinds = counts.by_kind();
                        let (_, n) = kinds[kind];
                        let start: f64 = kinds[..kind].iter().map(|(_, n)| n).sum();
                        (n > 0.0).then(|| bar(row(i), start, start + n, *colour))
                    });
                    let colour = *colour;
                    chart
                        .draw_series(segments)
                        .ok()?
                        .label(crate::ir::InstructionCounts::default().by_kind()[kind].0)
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                        });
                }
                chart
                    .draw_series((measured.iter().enumerate()).filter_map(|(i, m)| {
                        let at = SegmentValue::CenterOf(row(i));
                        Some(Circle::new((m.as_ref().copied()?, at), 6, BLACK.filled()))
                    }))
                    .ok()?;
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()
                    .ok()
            },
        )
    }
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

#[cfg(test)]
mod tests {
    use super::load_axis;

    #[test]
    fn the_load_axis_scales_to_the_load() {
        // A light DSP: the axis ends a quarter above the worst block, the deadline is named.
        let (top, note) = load_axis([0.3, 0.4].into_iter());
        assert!((top - 0.5).abs() < 1e-9, "{top}");
        assert_eq!(
            note.as_deref(),
            Some("; the deadline (100 %) is off the axis, 250× the worst block")
        );
        // Near or past the deadline: the axis holds it, and it is drawn.
        for worst in [85.0, 150.0] {
            let (top, note) = load_axis([worst].into_iter());
            assert!(top > worst.max(100.0) && note.is_none(), "{worst}: {top}");
        }
    }
}
