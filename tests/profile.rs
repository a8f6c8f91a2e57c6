//! End-to-end tests of `faustperf profile`: a paced run that keeps time, missed deadlines,
//! the denormal probe, every input signal and control mode, unstable output, a run in a JACK
//! callback (a dummy-driver jackd of its own) and without a server, and the live load line on
//! a terminal.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): each run
//! pins its processing thread to the same core with real-time priority, and two at once would
//! measure each other.

mod common;

use common::{faustperf, fixture, profile_json, serial, write_wav};
use serde_json::Value;

#[test]
fn paced_profile_of_a_light_dsp_keeps_time() {
    let _guard = serial();
    let (code, r, stderr) =
        profile_json(&[fixture("osc.dsp").to_str().unwrap(), "--duration", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let m = &r["metrics"];
    assert_eq!(m["buffer_underruns"], 0);
    assert_eq!(m["blocks_processed"], m["blocks_planned"]);
    // 48000 Hz, 256 frames: 188 blocks for 1 s.
    assert_eq!(m["blocks_planned"], 188);
    let achieved = m["sample_rate_achieved"].as_f64().unwrap();
    assert!((achieved - 48000.0).abs() < 480.0, "{achieved}");
    assert_eq!(m["allocations_in_callback"], 0);
    assert!(m["avg_cpu_percent"].as_f64().unwrap() <= m["peak_cpu_percent"].as_f64().unwrap());
    assert!(m["p50_cpu_percent"].as_f64().unwrap() <= m["p99_cpu_percent"].as_f64().unwrap());
    assert!(m["memory_peak_bytes"].as_u64().unwrap() > m["buffer_bytes"].as_u64().unwrap());
    let t = &r["timeline"];
    let windows = t["timestamps"].as_array().unwrap().len();
    assert!((9..=11).contains(&windows), "{windows}");
    assert_eq!(t["cpu_usage_over_time"].as_array().unwrap().len(), windows);
    assert_eq!(r["category"], "excellent");
    assert!(r["recommendations"][0]
        .as_str()
        .unwrap()
        .contains("At 96000 Hz"));
    assert_eq!(r["block_sizes"].as_array().unwrap().len(), 7);
}

#[test]
fn a_dsp_too_heavy_for_192_khz_misses_deadlines_and_finishes() {
    let _guard = serial();
    let (code, r, stderr) = profile_json(&[
        "--code",
        "process = _ <: par(i, 120, *(i+1) : seq(j, 25, sin)) :> _;",
        "--sample-rate",
        "192000",
        "--duration",
        "0.3",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let m = &r["metrics"];
    assert!(m["buffer_underruns"].as_u64().unwrap() > 0);
    assert_eq!(m["blocks_processed"], m["blocks_planned"]);
    assert!(m["behind_seconds"].as_f64().unwrap() > 0.0);
    assert!(m["sample_rate_achieved"].as_f64().unwrap() < 192000.0);
    assert_eq!(r["category"], "unusable");
    assert!(r["recommendations"]
        .to_string()
        .contains("faustperf analyze"));
}

#[test]
fn denormal_probe_on_a_reverb_fed_an_impulse() {
    let _guard = serial();
    let (code, r, _) = profile_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--duration",
        "0.2",
        "--signal",
        "impulse",
    ]);
    assert_eq!(code, 0);
    let d = &r["denormals"];
    let (on, off) = (
        d["window_flushed_ns_per_block"].as_f64().unwrap(),
        d["window_unflushed_ns_per_block"].as_f64().unwrap(),
    );
    assert!(on > 0.0 && off > 0.0);
    assert!((r["denormal_slowdown"].as_f64().unwrap() - off / on).abs() < 1e-9);
    assert!(d["audio_seconds"].as_f64().unwrap() > 1.0);
    assert!(r["recommendations"].to_string().contains("enormals"));
    assert_eq!(r["signal"], "impulse then silence");
}

#[test]
fn every_signal_kind_and_control_mode() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("in.wav");
    write_wav(&wav);
    let synth = fixture("synth_controls.dsp");
    for (signal, controls) in [
        ("silence", "fixed"),
        ("noise", "random"),
        ("sine:1000", "sweep"),
        ("impulse", "fixed"),
        (wav.to_str().unwrap(), "random"),
    ] {
        let (code, r, stderr) = profile_json(&[
            fixture("stereo_gain.dsp").to_str().unwrap(),
            "--duration",
            "0.2",
            "--signal",
            signal,
            "--controls",
            controls,
        ]);
        assert_eq!(code, 0, "{signal}: {stderr}");
        assert_eq!(r["metrics"]["allocations_in_callback"], 0, "{signal}");
        let (code, r, _) = profile_json(&[
            synth.to_str().unwrap(),
            "--duration",
            "0.2",
            "--controls",
            controls,
        ]);
        assert_eq!(code, 0);
        let controls_used = r["controls"].as_array().unwrap();
        assert_eq!(controls_used.len(), 8);
        assert!(controls_used
            .iter()
            .all(
                |c| c["values"].as_str().unwrap().starts_with(match controls {
                    "fixed" => "fixed at",
                    "random" => "random in",
                    _ => "swept from",
                })
            ));
    }
    // A WAV at another rate is refused before anything runs.
    faustperf()
        .args([
            "profile",
            fixture("osc.dsp").to_str().unwrap(),
            "--sample-rate",
            "44100",
            "--signal",
        ])
        .arg(&wav)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--sample-rate 48000"));
    faustperf()
        .args([
            "profile",
            fixture("osc.dsp").to_str().unwrap(),
            "--signal",
            "square",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("silence, noise, sine"));
}

#[test]
fn unstable_output_is_reported_with_its_time() {
    let _guard = serial();
    let (code, r, _) = profile_json(&["--code", "process = _ : + ~ *(1.5);", "--duration", "0.5"]);
    assert_eq!(code, 0);
    let t = r["metrics"]["first_non_finite_seconds"].as_f64().unwrap();
    assert!((0.0..0.5).contains(&t), "{t}");
    assert!(
        r["metrics"]["non_finite_samples"].as_u64().unwrap() > 0,
        "{r}"
    );
    // In the output check's words.
    assert!(r["recommendations"].to_string().contains("NaN/inf samples"));
}

/// A JACK server with the dummy driver (real-time pacing without a sound card), under a name of
/// its own so that it meets no other server; killed on drop.
struct DummyJack {
    name: String,
    server: std::process::Child,
}

impl DummyJack {
    fn start() -> DummyJack {
        let name = format!("faustperf-test-{}", std::process::id());
        let server = std::process::Command::new("jackd")
            .args(["-n", &name, "-d", "dummy", "-r", "48000", "-p", "256"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("jackd (Debian package jackd2) is part of the set-up");
        DummyJack { name, server }
    }
}

impl Drop for DummyJack {
    /// Stops the server with SIGTERM so that it unregisters itself: a killed jackd leaves its
    /// entry in JACK's shared registry, and after a few, new servers fail with "Too many
    /// servers already active".
    fn drop(&mut self) {
        // SAFETY: kill on our own child's pid.
        unsafe { libc::kill(self.server.id() as i32, libc::SIGTERM) };
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(5) {
            if let Ok(Some(_)) = self.server.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[test]
fn profile_in_a_jack_callback() {
    let _guard = serial();
    let jack = DummyJack::start();
    // The server needs a moment to come up: exit 6 means not yet.
    let start = std::time::Instant::now();
    let out = loop {
        let out = faustperf()
            .env("JACK_DEFAULT_SERVER", &jack.name)
            .args([
                "profile",
                "--format",
                "json",
                "--audio",
                "jack",
                "--duration",
                "1",
                "--controls",
                "random",
            ])
            .arg(fixture("freeverb.dsp"))
            .output()
            .unwrap();
        if out.status.code() != Some(6) || start.elapsed() > std::time::Duration::from_secs(10) {
            break out;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mode"], "audio callback (JACK)");
    let m = &r["metrics"];
    assert_eq!(m["blocks_processed"], m["blocks_planned"]);
    assert_eq!(m["allocations_in_callback"], 0);
    assert!(m["host_xruns"].is_u64());
    assert!(m["callback_jitter_p99_us"].as_f64().unwrap() >= 0.0);
    // The dummy driver paces callbacks in real time.
    let achieved = m["sample_rate_achieved"].as_f64().unwrap();
    assert!((achieved - 48000.0).abs() < 2400.0, "{achieved}");
    assert!(r["thread"].is_null());
}

#[test]
fn jack_without_a_server_is_a_clear_error() {
    let _guard = serial();
    faustperf()
        .env("JACK_DEFAULT_SERVER", "faustperf-no-such-server")
        .args(["profile", "--audio", "jack", "--duration", "1"])
        .arg(fixture("osc.dsp"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(6)
        .stderr(predicates::str::contains("jackd -d dummy -r 48000 -p 256"));
}

#[test]
fn profile_shows_a_live_load_line_on_a_terminal() {
    let _guard = serial();
    // `script` (util-linux) gives faustperf a pseudo-terminal, where the live line appears.
    let command = format!(
        "{} profile {} --duration 1 --format csv --no-cache",
        assert_cmd::cargo::cargo_bin("faustperf").display(),
        fixture("osc.dsp").display()
    );
    let out = std::process::Command::new("script")
        .args(["-qc", &command, "/dev/null"])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("s of 1 s, load"), "{screen}");
    assert!(screen.contains("timestamp_s,mean_cpu_percent,max_cpu_percent"));
}
