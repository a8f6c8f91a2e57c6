//! What the compared implementations compute: each one's output against the reference
//! implementation's, its magnitude response against the reference's (programs with as many
//! inputs as outputs), and its THD+N at a sine where asked. Rendered after measuring.

use super::{CompareRequest, ImplResult, Measured};
use crate::accuracy::{self, Accuracy};
use crate::jobs::{Input, Render, RenderJob};
use crate::measure::RequestError;
use crate::pipeline::{on_compile_lanes, Workers};

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
/// measured. Each implementation is rendered in one job: the seeded noise and one impulse per
/// input channel when it is shaped like the reference, then the sine when THD+N is asked.
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
    let alike = |x: &Measured<'_>| channels(x) == channels(reference);
    // Impulse responses are read channel by channel: input c into output c.
    let (inputs, outputs) = channels(reference);
    let impulses = if inputs == outputs { inputs } else { 0 };
    let render = Render::from(&request.measure);
    let jobs: Vec<RenderJob> = (measured.iter())
        .map(|x| {
            let mut inputs = Vec::new();
            if alike(x) {
                inputs.push(Input::Noise);
                inputs.extend((0..impulses).map(|channel| Input::Impulse { channel }));
            }
            if x.code.info.inputs > 0 {
                inputs.extend(request.thd_n_hz.map(|hz| Input::Sine { hz }));
            }
            RenderJob {
                code: (x.code.code.clone(), x.implementation.options.clone()),
                render,
                inputs,
            }
        })
        .collect();
    let rendered = on_compile_lanes(workers, &jobs);
    // Each impulse's own channel.
    let diagonal = |outputs: &[Vec<Vec<f64>>]| -> Vec<Vec<f64>> {
        (outputs.iter().enumerate())
            .map(|(c, o)| o[c].clone())
            .collect()
    };
    let at = measured.iter().position(|x| std::ptr::eq(x, reference))?;
    let reference_outputs = rendered[at].as_ref().ok();
    let reference_impulses = reference_outputs.map(|o| diagonal(&o[1..=impulses]));
    for (x, result) in measured.iter().zip(&rendered) {
        let outputs = match result {
            Ok(outputs) => outputs,
            Err(e) => {
                let name = &x.implementation.name;
                warnings.push(format!("{name}: its output could not be rendered: {e}"));
                continue;
            }
        };
        let Some(r) = (comparison.iter_mut()).find(|r| r.name == x.implementation.name) else {
            continue;
        };
        let mut outputs = outputs.iter();
        if alike(x) {
            // Its noise and impulses come first, compared only when the reference rendered.
            let noise = outputs.next();
            let own: Vec<Vec<Vec<f64>>> = outputs.by_ref().take(impulses).cloned().collect();
            if let (Some(reference), Some(noise)) = (reference_outputs, noise) {
                let d = accuracy::difference(&reference[0], noise);
                r.output_vs_reference = Some(Accuracy {
                    verdict: accuracy::verdict(&d, None, None, request.accuracy_tolerance_db),
                    difference: d,
                    vs_scalar: None,
                });
            }
            if let (Some(reference), true) = (&reference_impulses, impulses > 0) {
                let band = request.band_hz;
                let response =
                    accuracy::response(reference, &diagonal(&own), render.sample_rate, band);
                r.response = Some(response);
            }
        }
        if let (Some(hz), Some(sine)) = (request.thd_n_hz, outputs.next()) {
            r.thd_n_db = (sine.iter())
                .filter_map(|channel| accuracy::thd_n_db(channel, hz, render.sample_rate))
                .reduce(f64::max);
        }
    }
    Some(reference.implementation.name.clone())
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
