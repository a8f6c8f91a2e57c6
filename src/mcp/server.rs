//! The MCP tools. Each benchmark runs on the blocking pool with its own worker processes, one at
//! a time on the measuring core; the async side relays progress and cancellation.

use super::roots::Roots;
use super::wire::{
    AnalyzeOutput, AnalyzeParams, CompareOutput, CompareParams, EnvironmentOutput, InputSignal,
    InspectOutput, InspectParams, OptionInfo, OptionsOutput, PresetInfo, ProfileOutput,
    ProfileParams,
};
use crate::analyze::{analyze, AnalyzeRequest, OptionSets, Progress, SetState};
use crate::cache::Cache;
use crate::chart::Charted;
use crate::compare::{compare, CompareRequest, Implementation};
use crate::inspect::{inspect, InspectRequest};
use crate::libfaust::LibFaust;
use crate::measure::{Budget, MeasureConfig};
use crate::options::{self, parse_option_set, OptionSet};
use crate::pipeline::Workers;
use crate::profile::{run_profile, ProfileRequest};
use crate::realtime::signal::Signal;
use crate::realtime::ProfileConfig;
use crate::report::{Format, InspectFormat};
use crate::worker::{Cancel, WorkerConfig};
use base64::Engine;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::{schema_for_input, schema_for_output};
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation as ServerImplementation, JsonObject,
    ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// Longest fixed measuring time or profile a client may ask for, seconds.
const MAX_SECONDS: f64 = 600.0;

/// How the server runs benchmarks.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub roots: Roots,
    /// Workers' configuration (its `cancel` is replaced per call).
    pub worker: WorkerConfig,
    /// Compile workers per call.
    pub jobs: usize,
    /// The measuring core.
    pub core: Option<usize>,
    pub cache: Option<Cache>,
}

/// The faustperf MCP server.
#[derive(Clone)]
pub struct FaustPerfServer {
    settings: Arc<ServerSettings>,
    /// Held while a call benchmarks: calls take turns on the measuring core.
    bench: Arc<tokio::sync::Mutex<()>>,
    tool_router: ToolRouter<Self>,
}

/// What a benchmark running on the blocking pool tells the client: progress so far, total,
/// message.
type Report = (f64, Option<f64>, String);

/// Cancels a job when its call ends, however it ends.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// `analyze`'s progress, as MCP progress notifications (per option set).
struct SetProgress(UnboundedSender<Report>);

impl Progress for SetProgress {
    fn update(&mut self, set: &OptionSet, index: usize, total: usize, state: &SetState) {
        let (done, what) = match state {
            SetState::Queued => return,
            SetState::Compiling => (index, "compiling"),
            SetState::Cached => (index, "compiled code from the cache"),
            SetState::Done(outcome) | SetState::Failed(outcome) => (index + 1, outcome.as_str()),
        };
        let message = format!("[{}/{total}] {}: {what}", index + 1, set.display());
        let _ = self.0.send((done as f64, Some(total as f64), message));
    }

    fn step(&mut self, what: &str) {
        let _ = self.0.send((0.0, None, what.to_string()));
    }

    fn pass(&mut self, pass: usize, max_passes: usize, sets: usize) {
        // Every tenth pass is enough to show it is alive. Progress only rises: the relay steps a
        // notification without a new value up a little.
        if pass == 1 || pass.is_multiple_of(10) {
            let message = crate::analyze::pass_message(pass, max_passes, sets);
            let _ = self.0.send((0.0, None, message));
        }
    }
}

/// A tool's answer: the readable text, then `image` (PNG, base64) if any, and the structured
/// result.
fn answer<T: Serialize>(
    value: &T,
    text: String,
    is_error: bool,
    image: Option<String>,
) -> Result<CallToolResult, ErrorData> {
    let structured = serde_json::to_value(value)
        .map_err(|e| ErrorData::internal_error(format!("cannot encode the result: {e}"), None))?;
    let mut content = vec![ContentBlock::text(text)];
    content.extend(image.map(|png| ContentBlock::image(png, "image/png")));
    let mut result = if is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = Some(structured);
    Ok(result)
}

/// The report's main chart as PNG (base64) when the client asked for it (`chart: true`).
fn chart_png(asked: bool, report: &impl Charted) -> Result<Option<String>, String> {
    let Some(svg) = asked.then(|| report.chart()).flatten() else {
        return Ok(None);
    };
    let png = crate::chart::png(&svg).map_err(|e| format!("the chart could not be drawn: {e}"))?;
    Ok(Some(base64::engine::general_purpose::STANDARD.encode(png)))
}

/// A tool's arguments, or a JSON-RPC "invalid params" error saying what is wrong with them.
/// (rmcp would answer a tool error instead, as the 2025-11-25 revision suggests; faustperf's
/// design asks for a protocol error, so that a client's bug is not taken for a Faust problem.)
fn parameters<T: DeserializeOwned>(arguments: JsonObject) -> Result<T, ErrorData> {
    serde_json::from_value(serde_json::Value::Object(arguments))
        .map_err(|e| ErrorData::invalid_params(format!("invalid arguments: {e}"), None))
}

/// The JSON Schema of a tool's arguments.
fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<T>().unwrap_or_else(|e| panic!("the arguments' schema is an object: {e}"))
}

/// The value of a `Result`, or the tool answers with its error as a refusal (see [`refuse`]).
macro_rules! or_refuse {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(why) => return Ok(refuse(why.to_string())),
        }
    };
}

/// Bad input, said as a tool error (`isError: true`) so that the assistant can fix its call.
fn refuse(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// The option sets a client gave in `options_to_test`: at least one, each valid.
fn option_sets(texts: &[String]) -> Result<Vec<OptionSet>, String> {
    if texts.is_empty() {
        return Err(
            "options_to_test is empty: give at least one set, or leave it out for the defaults"
                .into(),
        );
    }
    options::parse_option_sets("options_to_test", texts).map_err(|e| e.to_string())
}

#[tool_router]
impl FaustPerfServer {
    pub fn new(settings: ServerSettings) -> FaustPerfServer {
        FaustPerfServer {
            settings: Arc::new(settings),
            bench: Arc::new(tokio::sync::Mutex::new(())),
            tool_router: Self::tool_router(),
        }
    }

    /// The measuring configuration of a call: the defaults, on the server's core, at the
    /// sample rate asked for, for a fixed time when one was asked for.
    fn measure_config(&self, sample_rate: Option<u32>, seconds: Option<f64>) -> MeasureConfig {
        let default = MeasureConfig::default();
        MeasureConfig {
            sample_rate: sample_rate.unwrap_or(default.sample_rate),
            budget: seconds.map_or(default.budget, |seconds| Budget::Fixed { seconds }),
            core: self.settings.core,
            ..default
        }
    }

    /// Runs `job` on the blocking pool with fresh workers once the measuring core is free,
    /// relaying its reports as progress notifications; a cancelled call kills its workers.
    /// `Err` is the text of a cancelled or broken run.
    async fn run<T: Send + 'static>(
        &self,
        context: &RequestContext<RoleServer>,
        job: impl FnOnce(&mut Workers, Option<&Cache>, UnboundedSender<Report>) -> T + Send + 'static,
    ) -> Result<T, String> {
        let token = context.meta.get_progress_token();
        let notify = |(progress, total, message): Report| {
            let peer = context.peer.clone();
            let token = token.clone();
            async move {
                if let Some(token) = token {
                    let mut param =
                        ProgressNotificationParam::new(token, progress).with_message(message);
                    if let Some(total) = total {
                        param = param.with_total(total);
                    }
                    let _ = peer.notify_progress(param).await;
                }
            }
        };
        let _turn = match self.bench.clone().try_lock_owned() {
            Ok(turn) => turn,
            Err(_) => {
                notify((
                    0.0,
                    None,
                    "queued: another call is benchmarking on the measuring core; this one waits its turn so that neither disturbs the other".into(),
                ))
                .await;
                tokio::select! {
                    turn = self.bench.clone().lock_owned() => turn,
                    _ = context.ct.cancelled() => return Err("cancelled while queued".into()),
                }
            }
        };
        let cancel = Cancel::default();
        // Also when this future is dropped (the client went away): the job's workers die.
        let _stop = CancelOnDrop(cancel.clone());
        let settings = self.settings.clone();
        let worker = WorkerConfig {
            cancel: cancel.clone(),
            ..settings.worker.clone()
        };
        let (tx, mut rx) = unbounded_channel();
        let mut running = tokio::task::spawn_blocking(move || {
            let mut workers = Workers::isolated(worker, settings.jobs, settings.core);
            job(&mut workers, settings.cache.as_ref(), tx)
        });
        // MCP wants each notification's progress above the last; compiles finishing out of
        // order would otherwise step back.
        let mut last = 0.0_f64;
        let mut relay = |(progress, total, message): Report| {
            last = if progress > last {
                progress
            } else {
                last + 1e-3
            };
            notify((last, total, message))
        };
        let outcome = loop {
            tokio::select! {
                done = &mut running => break done,
                Some(report) = rx.recv() => relay(report).await,
                _ = context.ct.cancelled(), if !cancel.is_cancelled() => cancel.cancel(),
            }
        };
        if cancel.is_cancelled() {
            return Err("cancelled; its worker processes were killed".into());
        }
        while let Ok(report) = rx.try_recv() {
            relay(report).await;
        }
        outcome.map_err(|e| format!("the benchmark stopped unexpectedly: {e}"))
    }

    #[tool(
        description = "Measure how fast Faust code runs under each compiler option set and recommend one. Compiles on the backend asked for (llvm: libfaust's JIT, the default; cpp: Faust's C++ built by g++ -O3 -ffast-math -march=native; wasm: Faust's WebAssembly in wasmtime; interp: libfaust's interpreter; all: every set on each, compared in side_by_side) in isolated workers, then, with nothing compiling, times compute() (512 frames per block) of all sets interleaved on a pinned core. Per set: throughput_mbps (mean of the 10 fastest blocks of its whole measurement, as faustbench-llvm; MB = 2^20 bytes of input+output samples per second) with its 95 % interval, throughput_median_mbps and cpu_percent_mean_block (what a host sees), cpu_percent (% of one core at sample_rate), memory_bytes (one instance's heap), rank (1 = fastest), speedup_vs_baseline (× scalar, paired pass by pass), tied_with_best; the category is judged on the mean block. Per set also samples_per_second (frames per second) and channels_processed (inputs + outputs). Sets within noise of the fastest (or compiled to the same machine code) are tied; the simplest tied set is recommended, never one whose output differs from the scalar -double reference (results[].accuracy: SNR dB and verdict same, close or different). The report also gives vectorization_benefit (best -vec over scalar, ×), openmp_benefit (best -omp over best without, ×; OpenMP runs on cpp only), recommended_command (the faust2<arch> and faust -lang lines that build the recommendation), and the design's dsp_analyzed, test_config and recommended blocks. Compile errors, and sets the backend cannot run (with why), come back in errors[]; every result names its backend.",
        input_schema = input_schema::<AnalyzeParams>(),
        output_schema = schema_for_output::<AnalyzeOutput>()
    )]
    async fn analyze_faust_performance(
        &self,
        arguments: JsonObject,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let params: AnalyzeParams = parameters(arguments)?;
        let (source, name) = or_refuse!(self.settings.roots.source(&params.source, "code"));
        let mut request = AnalyzeRequest {
            measure: self.measure_config(params.sample_rate, params.duration_seconds),
            backends: params.backend.backends(),
            inspect: params.inspect,
            counters: params.counters,
            accuracy: params.accuracy,
            budget_seconds: params.budget_seconds,
            ..AnalyzeRequest::new(source, name)
        };
        if params.sweep.is_some() && params.options_to_test.is_some() {
            return Ok(refuse("give sweep or options_to_test, not both"));
        }
        if let Some(sets) = params.options_to_test {
            request.option_sets = OptionSets::Custom(or_refuse!(option_sets(&sets)));
        }
        if let Some(search) = params.sweep {
            request.option_sets = OptionSets::Search(search);
        }
        let request = or_refuse!(request.validate(MAX_SECONDS));
        let report = self
            .run(&context, move |workers, cache, tx| {
                analyze(&request, workers, cache, &mut SetProgress(tx))
            })
            .await;
        let report = or_refuse!(report);
        let (text, failed) = (Format::Table.render(&report), !report.success);
        let image = or_refuse!(chart_png(params.chart, &report));
        answer(&AnalyzeOutput::from(report), text, failed, image)
    }

    #[tool(
        description = "Compare Faust implementations (each its own code and compiler options), measured in interleaved rounds on the same pinned core so that machine drift hits all alike. Per implementation: throughput_mbps, cpu_percent (at 44100 Hz), memory_bytes, rank, relative_performance (e.g. \"1.52x faster than butterworth (95 % CI 1.49–1.55)\", the median of pass-by-pass ratios with its sign-test interval), samples_per_second, channels_processed. winner names the fastest; tied_with lists those tied with it within noise (empty when it wins beyond noise), and verdict and recommendations (a string) say so. When inputs/outputs differ, time per frame is compared instead of MB/s. What each computes, against the reference implementation (the first, or `reference`): output_vs_reference (SNR dB of the difference on 1 s of noise, peak difference, verdict same/close/different), response (largest deviation of the magnitude response from the reference's over 20-20000 Hz, dB, and where; for programs with as many inputs as outputs) and, with thd_n_hz, thd_n_db.",
        input_schema = input_schema::<CompareParams>(),
        output_schema = schema_for_output::<CompareOutput>()
    )]
    async fn compare_faust_implementations(
        &self,
        arguments: JsonObject,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let params: CompareParams = parameters(arguments)?;
        let mut implementations = Vec::new();
        for i in &params.implementations {
            let (source, _) = or_refuse!(self
                .settings
                .roots
                .source(&i.source, &i.name)
                .map_err(|why| format!("{}: {why}", i.name)));
            let options = or_refuse!(parse_option_set(&i.compiler_options)
                .map_err(|e| format!("{}: compiler_options: {e}", i.name)));
            implementations.push(Implementation {
                name: i.name.clone(),
                source,
                options: options.on(params.backend),
            });
        }
        let measure = self.measure_config(None, params.test_duration_seconds);
        let request = or_refuse!(CompareRequest::new(implementations).and_then(|r| {
            CompareRequest {
                measure,
                reference: params.reference.clone(),
                thd_n_hz: params.thd_n_hz,
                ..r
            }
            .validate(MAX_SECONDS)
        }));
        let count = request.implementations.len() as f64;
        let report = self
            .run(&context, move |workers, cache, tx| {
                let _ = tx.send((
                    0.0,
                    Some(count),
                    "compiling, then measuring in interleaved rounds".into(),
                ));
                compare(&request, workers, cache)
            })
            .await;
        let report = or_refuse!(report);
        let image = or_refuse!(chart_png(params.chart, &report));
        let text = Format::Table.render(&report);
        answer(&report, text, !report.success, image)
    }

    #[tool(
        description = "Run Faust code in real time (one 256-frame block per period at 48000 Hz, to absolute deadlines, on a pinned core) and report whether it keeps up. input_signal: silence, noise (default), sine (at sine_frequency_hz, default 440), impulse, or custom with custom_signal_path naming a 48000 Hz WAV file beneath the readable directories. metrics: avg_cpu_percent and peak_cpu_percent (block compute time ÷ block period, %), avg_latency_samples and peak_latency_samples (deadline start to end of compute; also in ms), memory_peak_bytes, buffer_underruns (deadline misses), sample_rate_achieved (Hz). timeline: cpu_usage_over_time every 100 ms with timestamps (s). Also a denormal probe and safe block sizes, and recommendations.",
        input_schema = input_schema::<ProfileParams>(),
        output_schema = schema_for_output::<ProfileOutput>()
    )]
    async fn profile_faust_execution(
        &self,
        arguments: JsonObject,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let params: ProfileParams = parameters(arguments)?;
        let (source, name) = or_refuse!(self.settings.roots.source(&params.source, "code"));
        let options = or_refuse!(parse_option_set(&params.compiler_options)
            .map_err(|e| format!("compiler_options: {e}")))
        .on(params.backend);
        let signal = match (params.input_signal, params.custom_signal_path) {
            (Some(InputSignal::Custom), Some(path)) => Signal::Wav { path: path.into() },
            (Some(InputSignal::Custom), None) => {
                return Ok(refuse(format!(
                    "input_signal \"custom\" needs custom_signal_path: the path of a WAV file at {} Hz beneath the directories this server may read",
                    ProfileConfig::default().sample_rate
                )))
            }
            (_, Some(_)) => {
                return Ok(refuse(
                    "custom_signal_path goes with input_signal \"custom\"; give both, or neither",
                ))
            }
            (Some(InputSignal::Sine), None) => {
                let freq = params.sine_frequency_hz.unwrap_or(440.0);
                if !(freq.is_finite() && freq > 0.0) {
                    return Ok(refuse(format!(
                        "sine_frequency_hz {freq} must be a positive number of Hz"
                    )));
                }
                Signal::Sine { freq }
            }
            (Some(InputSignal::Silence), None) => Signal::Silence,
            (Some(InputSignal::Noise) | None, None) => Signal::Noise,
            (Some(InputSignal::Impulse), None) => Signal::Impulse,
        };
        if params.sine_frequency_hz.is_some() && !matches!(signal, Signal::Sine { .. }) {
            return Ok(refuse(
                "sine_frequency_hz goes with input_signal \"sine\"; give both, or neither",
            ));
        }
        if let Signal::Wav { path } = &signal {
            or_refuse!(self
                .settings
                .roots
                .file(path)
                .map_err(|why| format!("input_signal: {why}")));
        }
        let default = ProfileConfig::default();
        let config = ProfileConfig {
            duration_seconds: params.duration_seconds.unwrap_or(default.duration_seconds),
            signal,
            core: self.settings.core,
            ..default
        };
        let duration = config.duration_seconds;
        let request = ProfileRequest {
            options,
            config,
            counters: params.counters,
            ..ProfileRequest::new(source, name)
        };
        let request = or_refuse!(request.validate(MAX_SECONDS));
        let report = self
            .run(&context, move |workers, cache, tx| {
                let mut live = |seconds: f64, load: f64| {
                    let _ = tx.send((
                        seconds,
                        Some(duration),
                        format!("{seconds:.1} s of {duration} s, load {load:.2} %"),
                    ));
                };
                run_profile(&request, workers, cache, &mut live)
            })
            .await;
        let report = or_refuse!(or_refuse!(report));
        let image = or_refuse!(chart_png(params.chart, &report));
        let text = Format::Table.render(&report);
        answer(&report, text, !report.success, image)
    }

    #[tool(
        description = "Explain why Faust code is as fast as it is, from the LLVM code libfaust generates for each option set (read with inkwell): memory (DSP struct bytes, largest delay lines and tables, % of the total), work per frame (instructions by kind: float arithmetic, loads/stores, divisions, compares/selects, integer, calls; from loop trip counts, flagged when estimated), math library calls per frame (sinf, powf, expf…), vectorisation (share of vector instructions, widths; says plainly when -vec produced no vector code), feedback loops that prevent vectorisation, and advice citing these numbers. Default option sets: scalar and -vec.",
        input_schema = input_schema::<InspectParams>(),
        output_schema = schema_for_output::<InspectOutput>()
    )]
    async fn inspect_faust_code(
        &self,
        arguments: JsonObject,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let params: InspectParams = parameters(arguments)?;
        let (source, name) = or_refuse!(self.settings.roots.source(&params.source, "code"));
        let mut request = InspectRequest {
            counters: params.counters,
            ..InspectRequest::new(source, name)
        };
        if let Some(sets) = params.options_to_test {
            request.option_sets = or_refuse!(option_sets(&sets));
        }
        let report = self
            .run(&context, move |workers, _, tx| {
                let _ = tx.send((
                    0.0,
                    Some(request.option_sets.len() as f64),
                    "compiling and reading the generated code".into(),
                ));
                inspect(&request, workers)
            })
            .await;
        let report = or_refuse!(report);
        let image = or_refuse!(chart_png(params.chart, &report));
        let text = InspectFormat::Table.render(&report);
        answer(&report, text, !report.success, image)
    }

    #[tool(
        description = "List the option sets analyze_faust_performance tries by default, every compiler option it accepts with its meaning, and the options it refuses (those that read or write files).",
        output_schema = schema_for_output::<OptionsOutput>()
    )]
    async fn list_faust_options(&self) -> Result<CallToolResult, ErrorData> {
        let output = OptionsOutput {
            success: true,
            presets: options::PRESETS
                .iter()
                .map(|(set, purpose)| PresetInfo {
                    compiler_options: set.to_string(),
                    purpose: purpose.to_string(),
                })
                .collect(),
            options: options::accepted()
                .map(|(short, long, takes_value, meaning)| OptionInfo {
                    option: format!("{short} ({long})"),
                    takes_value,
                    meaning: meaning.into(),
                    not_supported_by: (crate::backends::refused_by(short).into_iter())
                        .map(|(backend, why)| format!("{backend}: {why}"))
                        .collect(),
                })
                .collect(),
            refused: options::refused()
                .map(|(option, why)| format!("{option}: {why}"))
                .collect(),
        };
        let mut text = String::from("Presets:\n");
        for p in &output.presets {
            let set = options::display(&p.compiler_options);
            text.push_str(&format!("  {set}: {}\n", p.purpose));
        }
        text.push_str("Options:\n");
        for o in &output.options {
            text.push_str(&format!("  {}: {}\n", o.option, o.meaning));
            for not in &o.not_supported_by {
                text.push_str(&format!("    not on {not}\n"));
            }
        }
        text.push_str("Refused:\n");
        for r in &output.refused {
            text.push_str(&format!("  {r}\n"));
        }
        answer(&output, text, false, None)
    }

    #[tool(
        description = "Report the environment benchmarks run in: libfaust version and LLVM target, CPU model and cores, the measuring core, the compile cache, the directories sources may be read from, and whether worker processes are confined with Landlock.",
        output_schema = schema_for_output::<EnvironmentOutput>()
    )]
    async fn faustperf_environment(&self) -> Result<CallToolResult, ErrorData> {
        let lib = LibFaust::get();
        let s = &self.settings;
        let stats = s.cache.as_ref().map(Cache::stats);
        let landlock_abi = crate::worker::confine::kernel_abi();
        let output = EnvironmentOutput {
            success: lib.is_ok(),
            faustperf_version: env!("CARGO_PKG_VERSION").into(),
            libfaust_version: lib.as_ref().ok().map(|l| l.version().to_string()),
            libfaust_error: lib.as_ref().err().map(|e| e.to_string()),
            machine_target: lib.as_ref().ok().map(|l| l.machine_target().to_string()),
            cpu_model: crate::measure::cpu_model(),
            // The machine's cores: this process's own affinity leaves out the measuring core.
            cores: crate::measure::machine::online_cores(),
            measuring_core: s.core,
            cache_dir: s.cache.as_ref().map(|c| c.dir().display().to_string()),
            cache_entries: stats.as_ref().map(|st| st.entries),
            cache_bytes: stats.as_ref().map(|st| st.bytes),
            allowed_dirs: s
                .roots
                .dirs()
                .iter()
                .map(|d| d.display().to_string())
                .chain(
                    crate::libfaust::imports::LIBRARY_DIRS
                        .iter()
                        .map(|d| d.to_string()),
                )
                .collect(),
            landlock_abi,
            confinement: confinement(landlock_abi),
        };
        let text = serde_json::to_string_pretty(&output).unwrap_or_default();
        answer(&output, text, false, None)
    }
}

/// Whether workers run confined, in words.
pub fn confinement(landlock_abi: Option<i32>) -> String {
    match landlock_abi {
        Some(abi) => format!(
            "worker processes are confined with Landlock (kernel ABI {abi}): they read only the allowed directories, the Faust libraries and system files, and write nowhere"
        ),
        None => "Landlock is not available on this kernel: worker processes are NOT confined; only the server's own checks of paths and imports apply".into(),
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FaustPerfServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(ServerImplementation::new(
                "faustperf",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "faustperf measures how fast Faust DSP code runs. Use analyze_faust_performance to rank compiler option sets for one program, compare_faust_implementations to pick between implementations, profile_faust_execution to check real-time behaviour, inspect_faust_code for why code is slow (memory, work per frame, math calls, vectorisation), list_faust_options for what the options mean, faustperf_environment for the machine. Benchmarks take seconds; calls queue on one measuring core.",
            )
    }
}
