//! What the compared implementations compute: each one's output against the reference
//! implementation's, its magnitude response against the reference's (programs with as many
//! inputs as outputs), and its THD+N at a sine where asked. Rendered after measuring.

use super::{CompareRequest, ImplResult, Measured};
use crate::accuracy::{self, Accuracy};
use crate::backends::Code;
use crate::jobs::{Input, Render, RenderJob};
use crate::measure::RequestError;
use crate::options::OptionSet;
use crate::pipeline::{on_compile_lanes, render_against, Workers};

/// What is wrong with the request's reference, tolerance, band or THD+N frequency.
pub(super) fn validate(r: &CompareRequest) -> Result<(), RequestError> {
    let names = || -> Vec<&str> { r.implementations.iter().map(|i| i.name.as_str()).collect() };
    if let Some(name) = &r.reference {
        if !names().contains(&name.as_str()) {
            return Err(RequestError(format!(
                "reference `{name}`: no implementation has that name (give one of {})",
                names().join(", ")
            )));
        }
    }
    accuracy::check_tolerance(r.accuracy_tolerance_db)?;
    let nyquist = f64::from(r.measure.sample_rate) / 2.0;
    let [low, high] = r.band_hz;
    if !(low > 0.0 && low < high && low < nyquist) {
        return Err(RequestError(format!(
            "response band {low}–{high} Hz: give 0 < LOW < HIGH with LOW below Nyquist ({nyquist} Hz)"
        )));
    }
    match r.thd_n_hz {
        Some(hz) if !(hz > 0.0 && hz < nyquist) => Err(RequestError(format!(
            "THD+N at {hz} Hz: give a frequency between 0 and Nyquist ({nyquist} Hz)"
        ))),
        _ => Ok(()),
    }
}

/// Fills each implementation's output, response and THD+N in `comparison` and returns the
/// reference's name; `None` (with a warning when it was named) when the reference was not
/// measured.
pub(super) fn check(
    request: &CompareRequest,
    measured: &[Measured<'_>],
    workers: &mut Workers,
    comparison: &mut [ImplResult],
    warnings: &mut Vec<String>,
) -> Option<String> {
    let named = |x: &&Measured<'_>| request.reference.as_ref() == Some(&x.implementation.name);
    let Some(reference) = (match request.reference {
        Some(_) => measured.iter().find(named),
        None => measured.first(),
    }) else {
        if let Some(name) = &request.reference {
            warnings.push(format!(
                "the reference {name} could not be measured: outputs were not compared"
            ));
        }
        return None;
    };
    let channels = |x: &Measured<'_>| (x.code.info.inputs, x.code.info.outputs);
    let code = |x: &Measured<'_>| -> (Code, OptionSet) {
        (x.code.code.clone(), x.implementation.options.clone())
    };
    let render = Render::from(&request.measure);
    let alike = |x: &&Measured<'_>| channels(x) == channels(reference);
    let codes: Vec<(Code, OptionSet)> = measured.iter().filter(alike).map(code).collect();
    let differences = render_against(workers, &[code(reference)], &codes, render);
    let mut unrendered = Vec::new();
    for (x, result) in measured.iter().filter(alike).zip(differences) {
        match result {
            Ok(mut d) => {
                let d = d.pop()?;
                let verdict = accuracy::verdict(&d, None, None, request.accuracy_tolerance_db);
                result_of(comparison, x).output_vs_reference = Some(Accuracy {
                    difference: d,
                    vs_scalar: None,
                    verdict,
                });
            }
            Err(e) => unrendered.push((x.implementation.name.clone(), e)),
        }
    }
    // One impulse per input channel of programs shaped like the reference, each read on the
    // output of its channel; the sine on every input.
    let (inputs, outputs) = channels(reference);
    let impulses: Vec<Input> = if inputs == outputs {
        (0..inputs)
            .map(|channel| Input::Impulse { channel })
            .collect()
    } else {
        Vec::new()
    };
    let jobs: Vec<RenderJob> = (measured.iter())
        .map(|x| {
            let mut inputs = if alike(&x) {
                impulses.clone()
            } else {
                Vec::new()
            };
            inputs.extend(
                (request.thd_n_hz)
                    .filter(|_| x.code.info.inputs > 0)
                    .map(|hz| Input::Sine { hz }),
            );
            RenderJob {
                code: code(x),
                render,
                inputs,
            }
        })
        .collect();
    let rendered = on_compile_lanes(workers, &jobs);
    let diagonal = |outputs: &[Vec<Vec<f64>>]| -> Vec<Vec<f64>> {
        (0..impulses.len()).map(|c| outputs[c][c].clone()).collect()
    };
    let at = measured.iter().position(|x| std::ptr::eq(x, reference))?;
    let reference_impulses = rendered[at].as_ref().ok().map(|o| diagonal(o));
    for (x, result) in measured.iter().zip(rendered) {
        let outputs = match result {
            Ok(outputs) => outputs,
            Err(e) => {
                unrendered.push((x.implementation.name.clone(), e));
                continue;
            }
        };
        let shaped = alike(&x) && !impulses.is_empty();
        let r = result_of(comparison, x);
        if let (Some(reference), true) = (&reference_impulses, shaped) {
            r.response = Some(accuracy::response(
                reference,
                &diagonal(&outputs),
                render.sample_rate,
                request.band_hz,
            ));
        }
        // The sine's outputs come after the impulses'.
        let sine = outputs.get(if shaped { impulses.len() } else { 0 });
        if let (Some(hz), Some(sine)) = (request.thd_n_hz, sine) {
            r.thd_n_db = (sine.iter())
                .filter_map(|channel| accuracy::thd_n_db(channel, hz, render.sample_rate))
                .reduce(f64::max);
        }
    }
    unrendered.dedup_by(|a, b| a.0 == b.0);
    warnings.extend(
        (unrendered.into_iter())
            .map(|(name, e)| format!("{name}: its output could not be rendered: {e}")),
    );
    Some(reference.implementation.name.clone())
}

/// The result of the implementation `x` (every measured one has one).
fn result_of<'r>(comparison: &'r mut [ImplResult], x: &Measured<'_>) -> &'r mut ImplResult {
    let at = (comparison.iter())
        .position(|r| r.name == x.implementation.name)
        .unwrap_or_default();
    &mut comparison[at]
}

/// What each implementation computes against the reference, in sentences (empty when there
/// is nothing to say).
pub(super) fn sentence(
    comparison: &[ImplResult],
    reference: &str,
    request: &CompareRequest,
) -> String {
    let [low, high] = request.band_hz;
    let outputs: Vec<String> = (comparison.iter())
        .filter(|r| r.name != reference)
        .filter_map(|r| {
            let a = r.output_vs_reference.as_ref()?;
            let mut text = format!("{}: {a}", r.name);
            if a.difference.snr_db.is_some() {
                text += &format!(
                    ", peak difference {:.2} % of {reference}'s peak",
                    100.0 * a.difference.peak_difference
                );
            }
            if let Some(response) = &r.response {
                text += &format!(
                    ", magnitude response up to {:.1} dB from {reference}'s over {low}–{high} Hz (at {:.0} Hz)",
                    response.deviation_db, response.deviation_at_hz
                );
            }
            Some(text)
        })
        .collect();
    let mut out = String::new();
    if !outputs.is_empty() {
        out += &format!(
            " What they compute, against {reference} over {} s of the seeded noise: {}.",
            accuracy::SECONDS,
            outputs.join("; ")
        );
    }
    let thd: Vec<String> = (comparison.iter())
        .filter_map(|r| Some(format!("{} {:.1} dB", r.name, r.thd_n_db?)))
        .collect();
    if let (Some(hz), false) = (request.thd_n_hz, thd.is_empty()) {
        out += &format!(" THD+N at {hz} Hz: {}.", thd.join(", "));
    }
    out
}
