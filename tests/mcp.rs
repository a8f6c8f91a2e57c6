//! `faustperf mcp` driven by real MCP clients: the Python `mcp` package (tests/mcp/client.py)
//! and the MCP Inspector's CLI, both installed in `.tools/` by `./setup.sh test`. The tests
//! measure, so they take turns (one measuring core).

mod common;

use common::{live_workers, stdout_json, write_wav};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn exe() -> String {
    env!("CARGO_BIN_EXE_faustperf").into()
}

fn tool(path: &str) -> PathBuf {
    let p = root().join(".tools").join(path);
    assert!(
        p.exists(),
        "{} is missing: run ./setup.sh test, which installs the MCP clients",
        p.display()
    );
    p
}

/// The server's arguments: a private cache, the fixtures readable, and `extra`.
fn server_args(cache: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "mcp".into(),
        "--cache-dir".into(),
        cache.display().to_string(),
        "--allow-dir".into(),
        root().join("fixtures").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs the Python client with `mode` and `steps` against a fresh server; returns its report.
fn python(mode: &str, steps: Value, extra: &[&str]) -> Value {
    let cache = tempfile::tempdir().unwrap();
    let spec = json!({
        "command": exe(),
        "args": server_args(cache.path(), extra),
        "cwd": root().join("fixtures"),
        "mode": mode,
        "steps": steps,
    });
    let out = Command::new(tool("venv/bin/python"))
        .arg(root().join("tests/mcp/client.py"))
        .arg(spec.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(&out)
}

/// Runs the MCP Inspector's CLI (on the Node.js 22 of `.tools/node`) with `method_args`.
fn inspector(method_args: &[&str]) -> Value {
    let cache = tempfile::tempdir().unwrap();
    let bin = tool("node/node_modules/.bin");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(bin.join("mcp-inspector"))
        .env("PATH", path)
        .current_dir(root().join("fixtures"))
        .arg("--cli")
        .arg(exe())
        .args(server_args(cache.path(), &[]))
        .args(method_args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "inspector failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(&out)
}

fn step(tool: &str, arguments: Value) -> Value {
    json!({ "tool": tool, "arguments": arguments })
}

/// A result that is neither an exception nor a tool error, whose structured content the
/// client validated against the tool's declared outputSchema; that content.
fn ok(result: &Value) -> &Value {
    assert!(result.get("exception").is_none(), "{result}");
    assert_eq!(result["is_error"], false, "{result}");
    assert_eq!(result["schema_errors"], json!([]), "{result}");
    assert_eq!(result["structured"]["success"], true, "{result}");
    &result["structured"]
}

/// A tool error (`isError: true`); its text. Where it carries structured content, that says
/// `success: false` and still satisfies the outputSchema.
fn tool_error(result: &Value) -> String {
    assert!(result.get("exception").is_none(), "{result}");
    assert_eq!(result["is_error"], true, "{result}");
    if !result["structured"].is_null() {
        assert_eq!(result["schema_errors"], json!([]), "{result}");
        assert_eq!(result["structured"]["success"], false, "{result}");
    }
    result["text"].as_str().unwrap().to_string()
}

/// The allowed values of a tool's enum parameter, as its input schema declares them.
fn enum_of(report: &Value, tool: &str, parameter: &str) -> Value {
    let tools = report["tools"].as_array().unwrap();
    let tool = tools.iter().find(|t| t["name"] == tool).unwrap();
    tool["enums"][parameter].clone()
}

/// Whether `value` is an array of strings.
fn strings(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|a| a.iter().all(Value::is_string))
}

/// The design's examples as an assistant copies them: one-line snippets without
/// `import("stdfaust.lib")`, and a profile fed a custom WAV file.
#[test]
fn the_design_examples_work_as_written() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("voice.wav");
    write_wav(&wav);
    let wav = wav.display().to_string();
    let allowed = dir.path().display().to_string();
    let report = python(
        "sequence",
        json!([
            step(
                "analyze_faust_performance",
                json!({"source": "process = os.osc(440);", "backend": "llvm", "duration_seconds": 0.3})
            ),
            step(
                "compare_faust_implementations",
                json!({"implementations": [
                    {"name": "resonlp", "source": "process = fi.resonlp(1000, 1, 1);", "compiler_options": "-vec"},
                    {"name": "lowpass6e", "source": "process = fi.lowpass6e(1000);", "compiler_options": "-vec"},
                    {"name": "butterworth", "source": "process = fi.lowpass(4, 1000);", "compiler_options": "-vec"}
                ], "test_duration_seconds": 0.3})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "custom", "custom_signal_path": wav, "duration_seconds": 1})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "custom"})
            ),
            step(
                "analyze_faust_performance",
                json!({"source": "process = re.stereo_freeverb(0.5, 0.5, 0.5, 0.5);", "options_to_test": ["-vec"], "duration_seconds": 0.3})
            ),
            step(
                "analyze_faust_performance",
                json!({"source": "process = _ <: par(i, 4, de.delay(48000, 1000 * (i + 1))) :> _;", "options_to_test": ["-vec"], "duration_seconds": 0.3})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "silence", "duration_seconds": 0.5})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "noise", "duration_seconds": 0.5})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "sine", "duration_seconds": 0.5})
            ),
            step(
                "analyze_faust_performance",
                json!({"source": "process = os.osc(440);", "backend": "all", "options_to_test": ["", "-vec -lv 1"], "duration_seconds": 0.2, "chart": true})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "pink", "duration_seconds": 0.5})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "process = fi.lowpass(4, 1000);", "input_signal": "sine", "sine_frequency_hz": 1000, "duration_seconds": 0.5})
            ),
            step(
                "analyze_faust_performance",
                json!({"source": "process = os.osc(440);", "accuracy": "strict", "duration_seconds": 0.2})
            ),
        ]),
        &["--allow-dir", &allowed],
    );
    // The design's enums are enums in the input schemas, so clients can build forms from them.
    assert_eq!(
        enum_of(&report, "analyze_faust_performance", "backend"),
        json!(["llvm", "cpp", "wasm", "interp", "all"])
    );
    for tool in ["compare_faust_implementations", "profile_faust_execution"] {
        assert_eq!(
            enum_of(&report, tool, "backend"),
            json!(["llvm", "cpp", "wasm", "interp"]),
            "{tool}"
        );
    }
    let signals = enum_of(&report, "profile_faust_execution", "input_signal");
    for signal in ["silence", "noise", "sine", "custom"] {
        assert!(
            signals.as_array().unwrap().contains(&json!(signal)),
            "{signals}"
        );
    }
    let r = &report["results"];
    // Every structured result satisfies its tool's outputSchema, and says success: true (ok).
    // The three tools' fields have the design's types.
    let analysis = ok(&r[0]);
    assert!(analysis["dsp_analyzed"].is_string());
    let config = &analysis["test_config"];
    assert!(config["sample_rate"].is_u64() && config["duration_seconds"].is_f64());
    assert_eq!(config["backend"], "llvm");
    let recommended = &analysis["recommended"];
    assert!(recommended["options"].is_string() && recommended["rationale"].is_string());
    assert!(recommended["speedup"].is_f64());
    let command = &analysis["recommended_command"];
    assert!(command["architecture"]
        .as_str()
        .unwrap()
        .starts_with("faust2<arch> "));
    assert!(command["faust"]
        .as_str()
        .unwrap()
        .starts_with("faust -lang cpp "));
    assert!(analysis["vectorization_benefit"].is_f64());
    assert!(analysis["openmp_benefit"].is_null());
    for set in analysis["results"].as_array().unwrap() {
        assert!(set["samples_per_second"].as_f64().unwrap() > 0.0, "{set}");
        assert_eq!(set["channels_processed"], 1, "{set}");
    }
    let comparison = ok(&r[1]);
    assert!(comparison["recommendations"].is_string(), "{comparison}");
    assert_eq!(comparison["winner"], comparison["comparison"][0]["name"]);
    assert!(strings(&comparison["tied_with"]), "{comparison}");
    for i in comparison["comparison"].as_array().unwrap() {
        assert!(i["samples_per_second"].as_f64().unwrap() > 0.0, "{i}");
        assert_eq!(i["channels_processed"], 2, "{i}");
    }
    let profile = ok(&r[2]);
    assert!(strings(&profile["recommendations"]), "{profile}");
    let m = &profile["metrics"];
    for (samples, ms) in [
        ("avg_latency_samples", "avg_latency_ms"),
        ("peak_latency_samples", "peak_latency_ms"),
    ] {
        // 48000 samples per second: a ms is 48 samples.
        let (samples, ms) = (m[samples].as_f64().unwrap(), m[ms].as_f64().unwrap());
        assert!((samples - 48.0 * ms).abs() < 1e-6 * samples, "{m}");
    }
    // A value outside an enum is refused by the schema, naming the values allowed.
    let refused = r[10]["exception"].as_str().unwrap_or_default();
    assert!(
        refused.contains("unknown variant `pink`")
            && refused.contains("`silence`, `noise`, `sine`, `custom`"),
        "{}",
        r[10]
    );
    assert_eq!(ok(&r[11])["signal"], "sine 1000 Hz");
    // The output check's modes are an enum too; a set's accuracy comes with the analysis.
    assert_eq!(
        enum_of(&report, "analyze_faust_performance", "accuracy"),
        json!(["off", "report", "guard"])
    );
    let refused = r[12]["exception"].as_str().unwrap_or_default();
    assert!(
        refused.contains("unknown variant `strict`") && refused.contains("`guard`"),
        "{}",
        r[12]
    );
    assert!(
        (analysis["results"].as_array().unwrap().iter())
            .all(|set| set["accuracy"]["verdict"].is_string()),
        "{analysis}"
    );
    assert_eq!(analysis["success"], true);
    assert!(analysis["results"].as_array().unwrap().len() >= 2);
    assert!(
        analysis["warnings"]
            .to_string()
            .contains("without importing it"),
        "{}",
        analysis["warnings"]
    );
    // -vec -omp, which LLVM cannot run, says why in the result rather than failing the call.
    assert!(analysis["errors"].to_string().contains("OpenMP"));
    // The design's fields, with their units' names.
    for set in analysis["results"].as_array().unwrap() {
        for number in [
            "throughput_mbps",
            "cpu_percent",
            "headroom_percent",
            "speedup_vs_baseline",
        ] {
            assert!(set[number].as_f64().unwrap() > 0.0, "{number}: {set}");
        }
        assert!(set["compiler_options"].is_string() && set["rank"].is_u64());
        assert!(set["memory_bytes"].as_u64().unwrap() > 0);
        assert!(set["category"].is_string(), "{set}");
    }
    assert!(analysis["recommended_options"].is_string());
    assert!(analysis["recommendation_rationale"].is_string());
    assert!(analysis["baseline_comparison"]["speedup"].as_f64().unwrap() > 0.0);
    assert!(analysis["baseline_comparison"]["description"].is_string());
    assert!(analysis["suggestions"].as_array().unwrap().len() >= 2);
    assert!(analysis["conditions"]["sample_rate"].is_u64());

    let implementations = comparison["comparison"].as_array().unwrap();
    assert_eq!(implementations.len(), 3);
    for i in implementations {
        assert!(i["name"].is_string() && i["rank"].is_u64());
        assert!(i["throughput_mbps"].as_f64().unwrap() > 0.0);
        assert!(i["cpu_percent"].as_f64().unwrap() > 0.0);
        assert!(i["memory_bytes"].as_u64().unwrap() > 0);
        assert!(i["relative_performance"].is_string());
    }
    assert!(comparison["errors"].as_array().unwrap().is_empty());

    assert_eq!(profile["signal"], wav, "{profile}");
    let m = &profile["metrics"];
    for number in [
        "avg_cpu_percent",
        "peak_cpu_percent",
        "avg_latency_samples",
        "peak_latency_samples",
        "sample_rate_achieved",
    ] {
        assert!(m[number].as_f64().unwrap() > 0.0, "{number}: {m}");
    }
    assert!(m["memory_peak_bytes"].as_u64().unwrap() > 0);
    assert!(m["buffer_underruns"].is_u64());
    let t = &profile["timeline"];
    assert_eq!(
        t["cpu_usage_over_time"].as_array().unwrap().len(),
        t["timestamps"].as_array().unwrap().len()
    );

    let text = tool_error(&r[3]);
    assert!(text.contains("custom_signal_path"), "{text}");

    // The stereo reverb and the delay network, also without their import.
    let reverb = ok(&r[4]);
    assert_eq!(
        (reverb["inputs"].as_u64(), reverb["outputs"].as_u64()),
        (Some(2), Some(2))
    );
    let delays = ok(&r[5]);
    // Faust keeps one line for the four taps: at least the longest, 4000 samples.
    assert!(delays["results"][0]["memory_bytes"].as_u64().unwrap() > 4000 * 4);
    for (result, signal) in r.as_array().unwrap()[6..9]
        .iter()
        .zip(["silence", "noise", "sine"])
    {
        let profile = ok(result);
        assert!(
            profile["signal"].as_str().unwrap().starts_with(signal),
            "{profile}"
        );
        assert!(profile["metrics"]["avg_cpu_percent"].as_f64().unwrap() > 0.0);
    }

    // Every backend side by side: each set runs on each backend that supports it, and each
    // result says which backend ran it; wasm refuses -vec with the reason.
    let all = ok(&r[9]);
    let results = all["results"].as_array().unwrap();
    for backend in ["llvm", "cpp", "wasm", "interp"] {
        assert!(
            results.iter().any(|r| r["backend"] == backend),
            "no {backend} result: {all}"
        );
    }
    assert_eq!(results.len(), 7, "{all}");
    assert_eq!(all["errors"][0]["backend"], "wasm");
    assert_eq!(all["errors"][0]["status"], "unsupported");
    let side = &all["side_by_side"];
    assert_eq!(side["backends"], json!(["llvm", "cpp", "wasm", "interp"]));
    assert_eq!(side["sets"].as_array().unwrap().len(), 2);
    assert!(side["llvm_winner_on_cpp"].is_string(), "{side}");
    // With `chart: true`, the ranking comes as a PNG image beside the structured result.
    let images = r[9]["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{}", r[9]);
    assert_eq!(images[0]["mime_type"], "image/png");
    assert_eq!(images[0]["head"], json!([137, 80, 78, 71, 13, 10, 26, 10]));
    // Without it, none.
    assert!(r[0]["images"].as_array().unwrap().is_empty());
}

#[test]
fn python_client_lists_and_calls_every_tool() {
    let _guard = serial();
    let report = python(
        "sequence",
        json!([
            step("faustperf_environment", json!({})),
            step("list_faust_options", json!({})),
            step(
                "analyze_faust_performance",
                json!({"source": "osc.dsp", "options_to_test": ["", "-vec"], "duration_seconds": 0.3, "inspect": true, "counters": true})
            ),
            step(
                "compare_faust_implementations",
                json!({"implementations": [
                    {"name": "resonlp", "source": "import(\"stdfaust.lib\"); process = fi.resonlp(1000, 1, 1);", "compiler_options": "-vec"},
                    {"name": "lowpass6e", "source": "import(\"stdfaust.lib\"); process = fi.lowpass6e(1000);", "compiler_options": "-vec"},
                    {"name": "butterworth", "source": "import(\"stdfaust.lib\"); process = fi.lowpass(4, 1000);", "compiler_options": "-vec"}
                ], "test_duration_seconds": 0.3})
            ),
            step(
                "profile_faust_execution",
                json!({"source": "import(\"stdfaust.lib\"); process = fi.lowpass(4, 1000);", "input_signal": "sine", "duration_seconds": 1})
            ),
            step(
                "inspect_faust_code",
                json!({"source": "freeverb.dsp", "options_to_test": ["-scal"], "chart": true, "counters": true})
            ),
        ]),
        &[],
    );
    assert_eq!(report["protocol_version"], "2025-11-25");
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["has_output_schema"], true, "{t}");
            t["name"].as_str().unwrap()
        })
        .collect();
    for name in [
        "analyze_faust_performance",
        "compare_faust_implementations",
        "profile_faust_execution",
        "list_faust_options",
        "faustperf_environment",
        "inspect_faust_code",
    ] {
        assert!(tools.contains(&name), "{tools:?}");
    }
    // Every structured result was validated against its output schema by the client.
    let r = &report["results"];

    let env = ok(&r[0]);
    assert!(env["libfaust_version"].as_str().unwrap().starts_with("2."));
    assert!(env["allowed_dirs"].to_string().contains("fixtures"));

    let options = ok(&r[1]);
    assert_eq!(options["presets"].as_array().unwrap().len(), 8);
    assert!(options["options"].to_string().contains("-vec"));
    assert!(options["refused"].to_string().contains("-o: writes"));

    let analysis = ok(&r[2]);
    assert_eq!(analysis["success"], true);
    let results = analysis["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (i, set) in results.iter().enumerate() {
        assert_eq!(set["rank"], i + 1);
        assert!(set["throughput_mbps"].as_f64().unwrap() > 0.0);
        assert!(set["cpu_percent"].as_f64().unwrap() > 0.0);
        assert!(set["memory_bytes"].as_u64().unwrap() > 0);
    }
    assert!(analysis["recommended_options"].is_string());
    assert!(analysis["baseline_comparison"]["speedup"].as_f64().unwrap() > 0.0);
    // With `counters`, each set's instructions per frame, counted under valgrind by a confined
    // worker: vector code runs fewer instructions per frame than scalar code for osc.
    let instructions = |set: &Value| {
        (set["counts"]["instructions_per_frame"].as_f64()).unwrap_or_else(|| panic!("{set}"))
    };
    let by_options = |o: &str| results.iter().find(|s| s["compiler_options"] == o).unwrap();
    assert!(
        instructions(by_options("-vec")) < instructions(by_options("")),
        "{results:?}"
    );
    assert!(analysis["counting"]["conditions"]["valgrind"]
        .as_str()
        .unwrap()
        .starts_with("valgrind"));
    // With `inspect`, each set's generated code is read too, and its facts are suggestions.
    assert!(results.iter().all(|set| set["inspection"].is_object()));
    assert!(
        analysis["suggestions"]
            .to_string()
            .contains("instructions/frame"),
        "{}",
        analysis["suggestions"]
    );
    assert!(r[2]["text"].as_str().unwrap().contains("rank  options"));
    // Progress per option set.
    let progress = r[2]["progress"].to_string();
    assert!(
        progress.contains("[1/2] (scalar)") && progress.contains("[2/2] -vec"),
        "{progress}"
    );
    // Each notification's progress is above the last, as MCP requires.
    let values: Vec<f64> = r[2]["progress_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[1] > w[0]), "{values:?}");

    let comparison = ok(&r[3]);
    let rows = comparison["comparison"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["relative_performance"], "slowest");
    assert!(rows[0]["relative_performance"]
        .as_str()
        .unwrap()
        .contains("faster than"));
    assert_eq!(comparison["winner"], rows[0]["name"]);

    let profile = ok(&r[4]);
    let metrics = &profile["metrics"];
    for field in [
        "avg_cpu_percent",
        "peak_cpu_percent",
        "avg_latency_samples",
        "peak_latency_samples",
        "memory_peak_bytes",
        "buffer_underruns",
        "sample_rate_achieved",
    ] {
        assert!(metrics[field].is_number(), "{field}: {metrics}");
    }
    let timeline = &profile["timeline"];
    assert_eq!(
        timeline["timestamps"].as_array().unwrap().len(),
        timeline["cpu_usage_over_time"].as_array().unwrap().len()
    );
    assert!(timeline["timestamps"].as_array().unwrap().len() >= 5);
    assert!(r[4]["progress"].to_string().contains("s of 1 s"));

    let inspection = ok(&r[5]);
    let set = &inspection["sets"][0];
    assert_eq!(set["compiler_options"], "-scal");
    assert!(set["memory"]["delay_lines"].as_u64().unwrap() >= 8, "{set}");
    assert!(!set["advice"].as_array().unwrap().is_empty());
    assert!(r[5]["text"].as_str().unwrap().contains("delay line"));
    // With `counters`, the instructions counted beside the IR's estimate.
    let measured = &set["measured"];
    assert!(
        measured["counts"]["instructions_per_frame"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{set}"
    );
    assert!(
        measured["measured_over_estimate"].as_f64().unwrap() > 0.0,
        "{set}"
    );
    // Its chart (instructions per frame by kind) as a PNG image.
    let images = r[5]["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{}", r[5]);
    assert_eq!(images[0]["head"], json!([137, 80, 78, 71, 13, 10, 26, 10]));
}

#[test]
fn a_search_within_a_budget_tells_its_leader() {
    let _guard = serial();
    let search = |arguments: Value| step("analyze_faust_performance", arguments);
    let report = python(
        "sequence",
        json!([
            search(
                json!({"source": "osc.dsp", "sweep": "wide", "budget_seconds": 3, "duration_seconds": 0.1})
            ),
            search(json!({"source": "osc.dsp", "sweep": "wide", "options_to_test": ["-vec"]})),
            search(json!({"source": "osc.dsp", "sweep": "exhaustive"})),
        ]),
        &[],
    );
    let r = &report["results"];
    let found = ok(&r[0]);
    assert_eq!(found["search"]["strategy"], "wide", "{found}");
    assert_eq!(found["search"]["budget_seconds"], 3.0, "{found}");
    assert!(found["recommended"]["options"].is_string(), "{found}");
    // Progress notifications name the leader as it changes.
    assert!(
        r[0]["progress"].to_string().contains("leader: "),
        "{}",
        r[0]
    );
    assert!(tool_error(&r[1]).contains("not both"));
    assert_eq!(
        enum_of(&report, "analyze_faust_performance", "sweep"),
        json!(["faustbench", "faustbench-2.83", "wide"])
    );
    assert!(
        r[2].to_string().contains("unknown variant `exhaustive`"),
        "{}",
        r[2]
    );
}

#[test]
fn bad_input_is_a_tool_error_and_the_server_goes_on() {
    let _guard = serial();
    let outside = tempfile::tempdir().unwrap();
    let far = outside.path().join("far.dsp");
    std::fs::write(&far, "process = _;\n").unwrap();
    let analyze = |source: &str, options: &[&str]| {
        step(
            "analyze_faust_performance",
            json!({"source": source, "options_to_test": options, "duration_seconds": 0.2}),
        )
    };
    let report = python(
        "sequence",
        json!([
            analyze("process = foo;", &[""]),
            analyze("process = seq(i, 20000, _);", &["-vec"]),
            analyze("process = _ <: par(i, 2000, _);", &[""]),
            analyze("process = _;", &["-vec -o /tmp/x.ll"]),
            analyze(far.to_str().unwrap(), &[""]),
            analyze("import(\"/etc/passwd\"); process = _;", &[""]),
            step("analyze_faust_performance", json!({"source": 42})),
            step("no_such_tool", json!({})),
            analyze("osc.dsp", &[""]),
            step(
                "analyze_faust_performance",
                json!({"source": "osc.dsp", "backend": "nope"})
            ),
        ]),
        &["--compile-timeout", "3"],
    );
    let r = &report["results"];

    let text = tool_error(&r[0]);
    assert!(text.contains("undefined symbol"), "{text}");
    assert_eq!(r[0]["structured"]["errors"][0]["line"], 1);

    assert!(tool_error(&r[1]).contains("SIGSEGV"));
    assert!(tool_error(&r[2]).contains("timed out after 3 s"));
    assert!(tool_error(&r[3]).contains("write"));
    assert!(tool_error(&r[4]).contains("outside the directories this server may read"));
    let text = tool_error(&r[5]);
    assert!(
        text.contains("/etc/passwd") && text.contains("outside"),
        "{text}"
    );

    // Wrong types and unknown tools are JSON-RPC errors, which the client raises.
    let exception = |i: usize| r[i]["exception"].as_str().unwrap_or_default().to_string();
    assert!(exception(6).contains("invalid arguments"), "{}", r[6]);
    assert!(exception(7).contains("tool not found"), "{}", r[7]);

    // And the server still works.
    assert_eq!(ok(&r[8])["success"], true);
    // A backend outside the enum is refused, naming the backends there are.
    assert!(
        exception(9).contains(
            "unknown backend `nope`, expected one of `llvm`, `cpp`, `wasm`, `interp`, `all`"
        ),
        "{}",
        r[9]
    );
    assert!(live_workers().is_empty(), "{:?}", live_workers());
}

#[test]
fn cancellation_kills_the_workers_and_the_next_call_works() {
    let _guard = serial();
    let report = python(
        "cancel",
        json!([
            step(
                "analyze_faust_performance",
                json!({"source": "freeverb.dsp", "duration_seconds": 5})
            ),
            step("faustperf_environment", json!({})),
        ]),
        &[],
    );
    let r = &report["results"];
    assert_eq!(r[0]["cancelled"], true, "{}", r[0]);
    assert_eq!(r[0]["workers_after_cancel"], json!([]), "{}", r[0]);
    ok(&r[1]);
}

#[test]
fn concurrent_calls_take_turns_on_the_measuring_core() {
    let _guard = serial();
    let call = |options: &str| {
        step(
            "analyze_faust_performance",
            json!({"source": "osc.dsp", "options_to_test": [options], "duration_seconds": 0.5}),
        )
    };
    let report = python("concurrent", json!([call(""), call("-vec")]), &[]);
    let r = report["results"].as_array().unwrap();
    for result in r {
        assert_eq!(ok(result)["success"], true);
    }
    let queued = r
        .iter()
        .filter(|x| x["progress"].to_string().contains("queued"))
        .count();
    assert_eq!(queued, 1, "{r:?}");
}

#[test]
fn inspector_cli_lists_and_calls_tools() {
    let _guard = serial();
    let list = inspector(&["--method", "tools/list"]);
    let tools = list["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 6);
    assert!(tools
        .iter()
        .all(|t| t["inputSchema"].is_object() && t["outputSchema"].is_object()));

    let call = inspector(&[
        "--method",
        "tools/call",
        "--tool-name",
        "analyze_faust_performance",
        "--tool-arg",
        "source=import(\"stdfaust.lib\"); process = os.osc(440);",
        "--tool-arg",
        "options_to_test=[\"-vec\"]",
        "--tool-arg",
        "duration_seconds=0.2",
    ]);
    assert_ne!(call["isError"], true, "{call}");
    let s = &call["structuredContent"];
    assert_eq!(s["success"], true);
    assert_eq!(s["results"].as_array().unwrap().len(), 2);
    assert!(call["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Conclusion"));
}

/// Sends `initialize` with `version` on raw stdio; returns the version the server answers.
fn negotiate(version: &str) -> String {
    let cache = tempfile::tempdir().unwrap();
    let mut server = Command::new(exe())
        .args(server_args(cache.path(), &[]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let request = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}
    });
    let mut stdin = server.stdin.take().unwrap();
    writeln!(stdin, "{request}").unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(stdin);
    let _ = server.wait();
    let answer: Value = serde_json::from_str(&line).unwrap();
    answer["result"]["protocolVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string()
}

#[test]
fn negotiates_2025_06_18_and_2025_11_25() {
    assert_eq!(negotiate("2025-06-18"), "2025-06-18");
    assert_eq!(negotiate("2025-11-25"), "2025-11-25");
}

#[test]
fn landlock_keeps_a_worker_from_reading_outside_its_roots() {
    let _guard = serial();
    if faustperf::worker::confine::kernel_abi().is_none() {
        eprintln!("this kernel has no Landlock: the environment tool says so; nothing to test");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut worker = Command::new(exe())
        .args(["__worker", "--confine-to"])
        .arg(root.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = worker.stdin.take().unwrap();
    let mut stdout = BufReader::new(worker.stdout.take().unwrap());
    let cxx = faustperf::backends::Cxx::default_compiler().unwrap();
    let mut compile = |code: &str, backend: &str| {
        let request = json!({"job": "compile", "body": {
            "source": {"kind": "code", "name": "t", "code": code},
            "options": {"label": "", "args": [], "backend": backend}, "sample_rate": 44100,
            "cxx": cxx}});
        writeln!(stdin, "{request}").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap()
    };
    // The server's own check is bypassed here: the kernel refuses the read (unconfined, Faust
    // reads the file and fails on its syntax instead).
    let denied = compile("import(\"/etc/passwd\"); process = _;", "llvm");
    assert_eq!(
        denied["failed"]["message"], "unable to open file /etc/passwd",
        "{denied}"
    );
    // The Faust libraries stay readable.
    let fine = compile("import(\"stdfaust.lib\"); process = os.osc(440);", "llvm");
    assert_eq!(fine["reply"]["code"]["backend"], "llvm", "{fine}");
    assert!(fine["reply"]["code"]["parts"][0].is_string(), "{fine}");
    // The C++ compiler runs confined too, writing only the worker's private directory.
    let cpp = compile("import(\"stdfaust.lib\"); process = os.osc(440);", "cpp");
    assert_eq!(cpp["reply"]["code"]["backend"], "cpp", "{cpp}");
    assert!(cpp["reply"]["code"]["parts"][0].is_string(), "{cpp}");
    let private = std::env::temp_dir().join(format!("faustperf-worker-{}", worker.id()));
    assert!(private.is_dir());
    drop(stdin);
    let _ = worker.wait();
    // Confined, it cannot remove the directory itself from /tmp (its supervisor does), only
    // empty it.
    assert_eq!(std::fs::read_dir(&private).unwrap().count(), 0);
    std::fs::remove_dir(&private).unwrap();
}
