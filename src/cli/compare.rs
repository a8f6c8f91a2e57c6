//! `faustperf compare`.

use super::common::{tie_threshold, BackendArgs, ChartArgs, MeasureArgs, RunArgs, MAX_SECONDS};
use super::{exit, Stop};
use crate::accuracy;
use crate::analyze::DEFAULT_TIE_THRESHOLD_PERCENT;
use crate::compare::{compare, CompareRequest, Implementation};
use crate::libfaust::DspSource;
use crate::options::{parse_option_set, OptionSet};
use crate::report::Format;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CompareArgs {
    /// .dsp files to compare, each named after its file name.
    files: Vec<PathBuf>,
    /// An implementation NAME=SOURCE[:OPTIONS]: SOURCE is a .dsp file or Faust code, OPTIONS
    /// (after the last `:`) its compiler options, e.g. `--impl fast=lp.dsp:-vec -vs 64` or
    /// `--impl butter='import("stdfaust.lib"); process = fi.lowpass(4, 1000);'`. Repeatable.
    #[arg(long = "impl", value_name = "NAME=SOURCE[:OPTIONS]")]
    implementations: Vec<String>,
    /// Compiler options of every implementation that names none.
    #[arg(
        long,
        value_name = "SET",
        allow_hyphen_values = true,
        default_value = ""
    )]
    options: String,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    measure: MeasureArgs,
    /// The fastest wins only when faster than every other by more than this, with 95 %
    /// confidence, % (instances of identical code differ by up to about 1 %).
    #[arg(long, default_value_t = DEFAULT_TIE_THRESHOLD_PERCENT, value_parser = tie_threshold)]
    tie_threshold: f64,
    /// The implementation whose output the others' are compared with (SNR, verdict, magnitude
    /// response) [default: the first].
    #[arg(long, value_name = "NAME")]
    reference: Option<String>,
    /// The SNR against the reference, dB, below which an implementation computes something
    /// `different` (above it, but beyond float rounding: `close`).
    #[arg(long, value_name = "DB", default_value_t = accuracy::DEFAULT_TOLERANCE_DB)]
    accuracy_tolerance: f64,
    /// The band over which magnitude responses are compared, Hz (clamped below Nyquist).
    #[arg(long, value_name = "LOW:HIGH", default_value = "20:20000", value_parser = band)]
    band: [f64; 2],
    /// Also measure THD+N at a sine of this frequency (−6 dBFS on every input), Hz.
    #[arg(long, value_name = "HZ")]
    thd_n: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    charts: ChartArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Runs `compare`: 0 when every implementation was measured, 4 when some failed, 3 when fewer
/// than two could be measured.
pub fn run(args: CompareArgs) -> Result<i32, Stop> {
    Stop::unless_libfaust()?;
    let request = validate(&args).map_err(Stop::usage)?;
    let mut workers = args
        .run
        .workers(request.measure.core)
        .map_err(Stop::usage)?;
    eprintln!(
        "compiling and measuring {} implementations in interleaved rounds…",
        request.implementations.len()
    );
    let report = compare(&request, &mut workers, args.run.machine.cache().as_ref());
    args.charts.show(&args.format.render(&report), &report)?;
    Ok(exit::of_outcome(report.success, !report.errors.is_empty()))
}

fn validate(args: &CompareArgs) -> Result<CompareRequest, String> {
    let default_options = parse_option_set(&args.options).map_err(|e| format!("--options: {e}"))?;
    let mut implementations = Vec::new();
    for path in &args.files {
        if !path.is_file() {
            return Err(format!("{} is not a readable file", path.display()));
        }
        implementations.push(Implementation {
            name: file_name(path),
            source: DspSource::File { path: path.clone() },
            options: default_options.clone(),
        });
    }
    for spec in &args.implementations {
        implementations.push(parse_impl(spec, &default_options)?);
    }
    let (backend, cxx) = args.backend.one()?;
    for i in &mut implementations {
        i.options = i.options.on(backend);
    }
    let measure = args.measure.config(&args.run, args.run.machine.core()?)?;
    let request = CompareRequest::new(implementations).map_err(|e| e.to_string())?;
    CompareRequest {
        measure,
        tie_threshold_percent: args.tie_threshold,
        cxx,
        reference: args.reference.clone(),
        accuracy_tolerance_db: args.accuracy_tolerance,
        band_hz: args.band,
        thd_n_hz: args.thd_n,
        ..request
    }
    .validate(MAX_SECONDS)
    .map_err(|e| e.to_string())
}

/// `LOW:HIGH` in Hz.
fn band(text: &str) -> Result<[f64; 2], String> {
    let parse = |x: &str| x.trim().parse::<f64>().ok();
    match text.split_once(':').map(|(a, b)| (parse(a), parse(b))) {
        Some((Some(low), Some(high))) => Ok([low, high]),
        _ => Err(format!("`{text}`: write LOW:HIGH in Hz, e.g. 20:20000")),
    }
}

fn file_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// `NAME=SOURCE[:OPTIONS]`: options are what follows the last `:` when it is empty or starts
/// with `-`; SOURCE is a file when one exists at that path, else Faust code.
fn parse_impl(spec: &str, default_options: &OptionSet) -> Result<Implementation, String> {
    let (name, rest) = spec
        .split_once('=')
        .filter(|(name, _)| !name.trim().is_empty())
        .ok_or_else(|| format!("--impl `{spec}`: write NAME=SOURCE[:OPTIONS]"))?;
    let (source, options) = match rest.rsplit_once(':') {
        Some((source, options))
            if options.trim().is_empty() || options.trim_start().starts_with('-') =>
        {
            let options = parse_option_set(options).map_err(|e| format!("--impl {name}: {e}"))?;
            (source, options)
        }
        _ => (rest, default_options.clone()),
    };
    let source = if Path::new(source).is_file() {
        DspSource::File {
            path: source.into(),
        }
    } else if source.contains("process") {
        DspSource::Code {
            name: name.trim().to_string(),
            code: source.to_string(),
        }
    } else {
        return Err(format!(
            "--impl {name}: `{source}` is neither a file nor Faust code with a `process`"
        ));
    };
    Ok(Implementation {
        name: name.trim().to_string(),
        source,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_implementations() {
        let scalar = OptionSet::scalar();
        let i = parse_impl("lp=process = fi.lowpass(4, 1000);:-vec -vs 64", &scalar).unwrap();
        assert_eq!(i.name, "lp");
        assert_eq!(i.options.label, "-vec -vs 64");
        assert!(
            matches!(i.source, DspSource::Code { ref code, .. } if code == "process = fi.lowpass(4, 1000);")
        );
        // A `:` inside the code is not taken for options.
        let i = parse_impl("x=process = _ : *(2);", &scalar).unwrap();
        assert!(
            matches!(i.source, DspSource::Code { ref code, .. } if code == "process = _ : *(2);")
        );
        assert!(i.options.args.is_empty());
        assert!(parse_impl("=process = _;", &scalar).is_err());
        assert!(parse_impl("a=nothing here", &scalar)
            .unwrap_err()
            .contains("neither a file"));
        assert!(parse_impl("a=process = _;:-o x", &scalar)
            .unwrap_err()
            .contains("read or write files"));
    }
}
