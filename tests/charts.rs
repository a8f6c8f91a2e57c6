//! End-to-end tests of the charts and pages: the SVG and self-contained HTML of analyze,
//! compare, profile and inspect, the README's chart, the HTML pages rendered in headless
//! Chromium, and `faustperf report` rendering a saved result again.
//!
//! The tests that run faustperf are serialised with one lock (`common::serial`, one per test
//! binary): most of their runs measure, pinning the measuring thread to the same core with
//! real-time priority, and two at once would measure each other. The README's chart is only
//! read, and takes no lock.

mod common;

use assert_cmd::Command;
use common::{
    analyze_json, bars, compare_json, faustperf, fixture, inspect_json, profile_json, serial,
};
use serde_json::Value;
use std::path::Path;

#[test]
fn analyze_writes_its_chart_as_svg_and_a_self_contained_html_page() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let (svg, html) = (dir.path().join("chart.svg"), dir.path().join("report.html"));
    let (code, report, _) = analyze_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--options",
        "",
        "--options",
        "-vec",
        "--options",
        "-vec -fun -vs 64",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    // One bar per measured set.
    assert_eq!(
        bars(&svg),
        report["results"].as_array().unwrap().len(),
        "{svg}"
    );
    let html = std::fs::read_to_string(html).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<svg") && html.contains("<table>")
    );
    assert!(html.contains("Conclusion: Use"), "{html}");
    // Self-contained: nothing fetched from elsewhere.
    assert!(!html.contains("src=\"http") && !html.contains("<script") && !html.contains("<link"));
}

#[test]
fn compare_and_profile_write_their_charts() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (osc, stereo) = (fixture("osc.dsp"), fixture("stereo_gain.dsp"));
    let (status, r) = compare_json(&[
        osc.to_str().unwrap(),
        stereo.to_str().unwrap(),
        "--duration",
        "0.1",
        "--svg",
        &file("compare.svg"),
        "--html",
        &file("compare.html"),
    ]);
    assert_eq!(status, 0);
    // A forest plot: one point per implementation.
    let svg = std::fs::read_to_string(file("compare.svg")).unwrap();
    let points = svg.matches("<circle").count();
    assert_eq!(points, r["comparison"].as_array().unwrap().len(), "{svg}");
    assert!(std::fs::read_to_string(file("compare.html"))
        .unwrap()
        .contains("<svg"));
    let (status, _, stderr) = profile_json(&[
        osc.to_str().unwrap(),
        "--duration",
        "0.5",
        "--svg",
        &file("profile.svg"),
    ]);
    assert_eq!(status, 0, "{stderr}");
    // The load timeline: mean and worst, on an axis scaled to osc's light load, which says
    // where the deadline lies instead of drawing a flat line under it.
    let svg = std::fs::read_to_string(file("profile.svg")).unwrap();
    assert!(svg.matches("<polyline").count() >= 2, "{svg}");
    assert!(
        svg.contains("the deadline (100 %) is off the axis"),
        "{svg}"
    );
    // A file that cannot be written is a usage error that says which.
    faustperf()
        .args([
            "compare",
            osc.to_str().unwrap(),
            stereo.to_str().unwrap(),
            "--duration",
            "0.1",
        ])
        .args(["--svg", "/nonexistent/dir/chart.svg"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/dir/chart.svg"));
}

#[test]
fn inspect_draws_each_sets_instructions_by_kind() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let (svg, html) = (dir.path().join("ir.svg"), dir.path().join("ir.html"));
    let (code, report) = inspect_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--options",
        "",
        "--options",
        "-vec -vs 16",
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let svg = std::fs::read_to_string(svg).unwrap();
    // One bar segment per kind a set has, plus the legend's swatch of each of the nine kinds.
    let kinds = [
        "float_arith",
        "divisions",
        "loads",
        "stores",
        "compares_selects",
        "integer",
        "conversions",
        "calls",
        "other",
    ];
    let segments: usize = (report["sets"].as_array().unwrap().iter())
        .map(|s| {
            let counts = &s["work"]["per_frame"];
            kinds
                .iter()
                .filter(|k| counts[**k].as_f64().unwrap() > 0.0)
                .count()
        })
        .sum();
    let fills: Vec<String> = (faustperf::chart::KIND_COLOURS.iter())
        .map(|c| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2))
        .collect();
    let drawn = (svg.split("<rect").skip(1))
        .filter(|r| fills.iter().any(|f| r.contains(f.as_str())))
        .count();
    assert_eq!(drawn, segments + kinds.len(), "{svg}");
    // The page holds the chart and every set's facts.
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("<svg") && html.contains("-vec -vs 16") && html.contains("work/frame"));
    assert!(!html.contains("<script") && !html.contains("<link"));
}

#[test]
fn the_readme_shows_a_chart_faustperf_drew() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let at = readme
        .find("](docs/")
        .expect("the README shows a chart from docs/");
    let file = &readme[at + 2..][..readme[at + 2..].find(')').unwrap()];
    let svg = std::fs::read_to_string(root.join(file)).unwrap();
    // An analyze ranking as faustperf draws it: its title, and a bar per measured preset.
    assert!(svg.contains("MB/s per option set"), "{file}");
    assert_eq!(bars(&svg), 7, "{file}");
    resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
}

/// Headless Chromium (Debian's `chromium`, which `./setup.sh test` installs) opens `page` and
/// takes a screenshot; returns it and Chromium's log.
fn chromium_screenshot(page: &Path, shot: &Path) -> (resvg::tiny_skia::Pixmap, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (./setup.sh test installs it)");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let png = std::fs::read(shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    (resvg::tiny_skia::Pixmap::decode_png(&png).unwrap(), log)
}

#[test]
fn html_reports_render_in_a_real_browser() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let page = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (osc, freeverb) = (fixture("osc.dsp"), fixture("freeverb.dsp"));
    let (osc, freeverb) = (osc.to_str().unwrap(), freeverb.to_str().unwrap());
    let runs: [(&str, Vec<&str>); 4] = [
        (
            "analyze.html",
            vec![
                "analyze",
                freeverb,
                "--options",
                "",
                "--options",
                "-vec",
                "--duration",
                "0.1",
            ],
        ),
        (
            "compare.html",
            vec!["compare", osc, freeverb, "--duration", "0.1"],
        ),
        ("profile.html", vec!["profile", osc, "--duration", "0.3"]),
        ("inspect.html", vec!["inspect", freeverb]),
    ];
    for (name, args) in runs {
        let out = faustperf()
            .args(&args)
            .arg("--html")
            .arg(page(name))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (shot, log) = chromium_screenshot(Path::new(&page(name)), &dir.path().join("shot.png"));
        // Not blank: a good share of the page is drawn (text, table, chart).
        let drawn = (shot.pixels().iter())
            .filter(|p| p.red() < 200 || p.green() < 200 || p.blue() < 200)
            .count();
        let share = drawn as f64 / shot.pixels().len() as f64;
        assert!(
            share > 0.03,
            "{name}: only {:.1} % of the screenshot is drawn",
            100.0 * share
        );
        // And the page made the browser say nothing: no console message, no failed load.
        assert!(!log.contains("CONSOLE"), "{name}: {log}");
    }
}

#[test]
fn report_renders_a_saved_result_again() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let osc = fixture("osc.dsp");
    let saved = |name: &str, args: &[&str]| {
        let out = faustperf()
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, &out.stdout).unwrap();
        file
    };
    let analysis = saved(
        "analysis.json",
        &["analyze", osc.to_str().unwrap(), "--duration", "0.1"],
    );
    let comparison = saved(
        "comparison.json",
        &[
            "compare",
            osc.to_str().unwrap(),
            fixture("stereo_gain.dsp").to_str().unwrap(),
            "--duration",
            "0.1",
        ],
    );
    let profile = saved(
        "profile.json",
        &["profile", osc.to_str().unwrap(), "--duration", "0.3"],
    );
    let inspection = saved("inspection.json", &["inspect", osc.to_str().unwrap()]);
    for file in [&analysis, &comparison, &profile, &inspection] {
        // The JSON comes back as it was: nothing is lost in the round trip.
        let out = faustperf()
            .arg("report")
            .arg(file)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let again: Value = serde_json::from_slice(&out.stdout).unwrap();
        let before: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(again, before, "{}", file.display());
    }
    let page = dir.path().join("analysis.html");
    faustperf()
        .arg("report")
        .arg(&analysis)
        .arg("--html")
        .arg(&page)
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(&page).unwrap().contains("<svg"));
    // Something else is refused with what to do.
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"x\": 1}").unwrap();
    faustperf()
        .arg("report")
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--format json"));
}
