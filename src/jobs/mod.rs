//! What runs in a worker process: each job is a file here, and [`JOBS`] registers it. A job
//! is a request type with its reply (see [`crate::worker::Job`]); the worker moves it without
//! knowing what it does, and the engines it calls (`libfaust`, `measure`, `inspect`'s IR
//! reader, `profile`'s runner) know nothing of workers.

mod compile;
mod inspect;
mod measure;
mod profile;

pub use compile::{CompileInfo, CompileJob, Compiled};
pub use inspect::InspectJob;
pub use measure::MeasureJob;
pub use profile::{Live, ProfileJob};

use crate::worker::{serve, Job, Jobs};

/// Every job a worker can run.
pub const JOBS: Jobs = &[
    (CompileJob::NAME, serve::<CompileJob>),
    (InspectJob::NAME, serve::<InspectJob>),
    (MeasureJob::NAME, serve::<MeasureJob>),
    (ProfileJob::NAME, serve::<ProfileJob>),
];
