//! What runs in a worker process: each job is a file here, registered by one line of
//! `register!`. A job is a request type with its reply (see [`crate::worker::Job`]); the
//! worker moves it without knowing what it does, and the engines it calls (`libfaust`,
//! `measure`, `ir`, `realtime`) know nothing of workers.

use crate::worker::{serve, Job, Jobs};

/// Declares each job's module, exports the job and lists it in [`JOBS`].
macro_rules! register {
    ($($module:ident::$job:ident),* $(,)?) => {
        $(mod $module; pub use $module::$job;)*
        /// Every job a worker can run.
        pub const JOBS: Jobs = &[$(($job::NAME, serve::<$job>)),*];
    };
}

register! {
    compile::CompileJob,
    count::CountJob,
    inspect::InspectJob,
    measure::MeasureJob,
    output::OutputJob,
    render::RenderJob,
    profile::ProfileJob,
}

pub use compile::{CompileInfo, Compiled};
pub use profile::Live;
pub use render::{Input, Render};
