//! Measure compiled code, the sets interleaved.

use crate::backends::Code;
use crate::callgrind;
use crate::dsp::{DspFactory, FaustError};
use crate::measure::{self, MeasureConfig, RawMeasurement, Stretch};
use crate::options::OptionSet;
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Measure code compiled by [`super::CompileJob`]s, the sets interleaved (see
/// [`measure::measure_interleaved`]). Notes each [`Stretch`] before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureJob {
    /// Compiled code ([`super::Compiled::code`]) and compile options of each set.
    pub codes: Vec<(Code, OptionSet)>,
    pub measure: MeasureConfig,
}

impl Job for MeasureJob {
    const NAME: &'static str = "measure";
    const PHASE: Phase = Phase::Measure;
    /// Every set's measurement, or why that set failed, in the order of the job.
    type Reply = Vec<Result<RawMeasurement, FaustError>>;
    type Note = Stretch;

    /// The worker announces every stretch (a set's set-up and warm-up, or one round of at
    /// most about a second), so a silence far longer than that means the set that runs hangs.
    fn limit(&self) -> Limit {
        Limit::Silence(Duration::from_secs(60))
    }

    /// Measures every set whose code loads; a set whose code does not load fails alone.
    fn run(&self, note: &(dyn Fn(Stretch) + Sync)) -> Result<Self::Reply, FaustError> {
        let loaded: Vec<Result<Box<dyn DspFactory>, FaustError>> = self
            .codes
            .iter()
            .map(|(code, options)| code.load(options))
            .collect();
        if self.measure.perf_map {
            for ((code, options), _) in self.codes.iter().zip(&loaded).filter(|(_, f)| f.is_ok()) {
                callgrind::symbols::map_for_perf(code, &options.label);
            }
        }
        let factories: Vec<&dyn DspFactory> = loaded
            .iter()
            .filter_map(|f| f.as_deref().ok())
            .collect();
        let which: Vec<usize> = (0..loaded.len()).filter(|&i| loaded[i].is_ok()).collect();
        let mut measured =
            measure::measure_interleaved(&factories, &self.measure, &mut |s: Stretch| {
                note(Stretch {
                    set: which[s.set],
                    ..s
                })
            })?
            .into_iter();
        Ok(loaded
            .into_iter()
            .map(|f| match f {
                Ok(_) => measured.next().unwrap_or_else(|| {
                    Err(FaustError::internal("the measurement lost a set"))
                }),
                Err(e) => Err(e),
            })
            .collect())
    }
}
