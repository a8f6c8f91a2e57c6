//! `profile`'s report: one run's numbers and load over time as a page, its timeline as CSV.

use super::csv::{sheet, Csv};
use super::{measured_counts_line, Exporter, Kind, Page, Paged, Sections};
use crate::measure::units::human_bytes;
use crate::options::display_on;
use crate::profile::ProfileReport;

impl Kind for ProfileReport {
    const KIND: &'static str = "profile";
}

impl Paged for ProfileReport {
    fn page(&self) -> Page {
        Page {
            heading: profile_heading(self),
            columns: vec!["metric", "value"],
            left: &[0, 1],
            headless: true,
            rows: profile_rows(self),
            sections: profile_sections(self),
            last: None,
        }
    }
}

/// The profile's numbers, a row of name and value each.
fn profile_rows(p: &ProfileReport) -> Vec<Vec<String>> {
    let m = &p.metrics;
    let optional_bytes = |b: Option<u64>| b.map_or_else(|| "?".into(), human_bytes);
    [
        ("average load", format!("{:.2} %", m.avg_cpu_percent)),
        (
            "peak load (worst block)",
            format!("{:.2} %", m.peak_cpu_percent),
        ),
        (
            "p50 / p95 / p99 load",
            format!(
                "{:.2} / {:.2} / {:.2} %",
                m.p50_cpu_percent, m.p95_cpu_percent, m.p99_cpu_percent
            ),
        ),
        (
            "latency avg / peak",
            format!(
                "{:.1} / {:.1} samples ({:.3} / {:.3} ms)",
                m.avg_latency_samples, m.peak_latency_samples, m.avg_latency_ms, m.peak_latency_ms
            ),
        ),
        (
            "deadline misses",
            format!("{} of {} blocks", m.buffer_underruns, m.blocks_processed),
        ),
        (
            "host xruns",
            m.host_xruns
                .map_or_else(|| "– (paced)".into(), |x| x.to_string()),
        ),
        (
            "callback jitter, 99th percentile",
            m.callback_jitter_p99_us
                .map_or_else(|| "– (paced)".into(), |j| format!("{j:.1} µs")),
        ),
        (
            "behind schedule at the end",
            format!("{:.3} s", m.behind_seconds),
        ),
        (
            "sample rate achieved",
            format!("{:.1} Hz", m.sample_rate_achieved),
        ),
        (
            "memory peak",
            format!(
                "{} (instance {}, buffers {})",
                optional_bytes(m.memory_peak_bytes),
                optional_bytes(m.instance_bytes),
                human_bytes(m.buffer_bytes as u64)
            ),
        ),
        (
            "allocations around compute()",
            m.allocations_in_callback
                .map_or_else(|| "not counted".into(), |a| a.to_string()),
        ),
        (
            "NaN/inf samples",
            m.first_non_finite_seconds.map_or_else(
                || "none".into(),
                |t| format!("{} (the first {t:.3} s into the run)", m.non_finite_samples),
            ),
        ),
        ("category", format!("{:?}", p.category)),
        (
            "denormal slow-down",
            p.denormal_slowdown.map_or_else(
                || "not measured".into(),
                |d| format!("{d:.2}× (worst second of a decaying tail without flush-to-zero)"),
            ),
        ),
    ]
    .into_iter()
    .map(|(name, value)| vec![name.to_string(), value])
    .collect()
}

/// The line that says what a profile ran.
fn profile_heading(p: &ProfileReport) -> String {
    let thread = p.thread.as_ref();
    format!(
        "{} {}: {} at {} Hz, {} frames, {} s, signal {}; libfaust {}, {}, {}",
        p.dsp,
        display_on(&p.compiler_options, p.backend),
        p.mode,
        p.conditions.sample_rate,
        p.conditions.buffer_size,
        p.duration_seconds,
        p.signal,
        p.conditions.toolchain.libfaust_version,
        p.conditions.toolchain.machine_target,
        match thread {
            Some(t) => format!(
                "core {}, real-time priority {}",
                t.core
                    .map_or_else(|| "not pinned".into(), |c| c.to_string()),
                if t.realtime_priority {
                    "granted"
                } else {
                    "not granted"
                }
            ),
            None => "on the audio host's callback thread".into(),
        },
    )
}

/// The lists under a profile's numbers: load over time, probes, controls, advice, warnings.
fn profile_sections(p: &ProfileReport) -> Sections {
    let t = &p.timeline;
    let counted = (p.counted.iter())
        .map(|c| {
            format!(
                "{} ({}, code for {}, {} blocks)",
                measured_counts_line(&c.counts),
                c.conditions.valgrind,
                c.conditions.target,
                c.conditions.blocks
            )
        })
        .collect();
    let step = (t.timestamps.len() / 10).max(1);
    let mut out = vec![(
        "Load over time (mean / worst block of 100 ms windows; 10 shown, all in JSON and CSV)",
        (0..t.timestamps.len())
            .step_by(step)
            .map(|i| {
                format!(
                    "{:>7.1} s  {:>7.2} % / {:>7.2} %",
                    t.timestamps[i], t.cpu_usage_over_time[i], t.max_cpu_over_time[i]
                )
            })
            .collect(),
    )];
    out.push(("Instructions per frame (callgrind)", counted));
    out.push((
        "Block sizes, back to back (99th-percentile / worst load)",
        p.block_sizes
            .iter()
            .map(|b| {
                format!(
                    "{} frames: {:.1} % / {:.1} %",
                    b.frames, b.p99_load_percent, b.max_load_percent
                )
            })
            .collect(),
    ));
    out.push((
        "Controls",
        p.controls
            .iter()
            .map(|c| format!("{}: {}", c.path, c.values))
            .collect(),
    ));
    out.push(("Recommendations", p.recommendations.clone()));
    out.push(("Warnings", p.warnings.clone()));
    out
}

/// A profile's timeline: one row per 100 ms window.
impl Exporter<ProfileReport> for Csv {
    fn render(&self, report: &ProfileReport) -> String {
        let t = &report.timeline;
        let rows = (0..t.timestamps.len()).map(|i| {
            let values = [
                t.timestamps[i],
                t.cpu_usage_over_time[i],
                t.max_cpu_over_time[i],
            ];
            values.map(|v| v.to_string()).to_vec()
        });
        sheet("timestamp_s,mean_cpu_percent,max_cpu_percent", rows)
    }
}
