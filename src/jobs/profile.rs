//! Run compiled code in real time, paced or on an audio server.

use crate::backends::Code;
use crate::dsp::FaustError;
use crate::options::OptionSet;
use crate::realtime::{self, ProfileConfig, RawProfile};
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Profile code compiled by a [`super::CompileJob`] in real time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileJob {
    pub code: Code,
    /// The option set it was compiled with.
    pub options: OptionSet,
    pub profile: ProfileConfig,
}

/// Noted every 250 ms while the DSP runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Live {
    /// Seconds of audio done.
    pub audio_seconds: f64,
    /// The load since the last note, %.
    pub load_percent: f64,
}

impl Job for ProfileJob {
    const NAME: &'static str = "profile";
    const PHASE: Phase = Phase::Measure;
    type Reply = RawProfile;
    type Note = Live;

    /// The paced run may overrun its plan (see `realtime::paced`), then the probes run.
    fn limit(&self) -> Limit {
        Limit::Whole(Duration::from_secs_f64(
            self.profile.duration_seconds * 3.0 + 130.0,
        ))
    }

    fn run(&self, note: &(dyn Fn(Live) + Sync)) -> Result<RawProfile, FaustError> {
        let factory = self.code.load(&self.options)?;
        if self.profile.perf_map {
            crate::callgrind::symbols::map_for_perf(&self.code, &self.options.label);
        }
        realtime::run(factory.as_ref(), &self.profile, &|audio_seconds, load_percent| {
            note(Live {
                audio_seconds,
                load_percent,
            })
        })
    }
}
