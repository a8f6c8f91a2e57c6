//! What a worker runs, seen from the transport: a [`Job`] is a request type with its reply, its
//! notes and its time limit. The worker moves jobs as JSON and runs them through a table of
//! [`Serve`] functions it is handed (`crate::jobs::JOBS`) without knowing what they do.

use super::Phase;
use crate::dsp::FaustError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// One kind of work a worker process can do.
pub trait Job: Serialize + DeserializeOwned {
    /// The name the job travels under; unique among the jobs.
    const NAME: &'static str;
    /// The step a failure of the job is reported in.
    const PHASE: Phase;
    type Reply: Serialize + DeserializeOwned;
    /// What the job tells while it runs (`()` when nothing).
    type Note: Serialize + DeserializeOwned;
    /// How long a worker may take over it before it is killed.
    fn limit(&self) -> Limit;
    /// Does the work; `note` sends a note to whoever asked, from any thread.
    fn run(&self, note: &(dyn Fn(Self::Note) + Sync)) -> Result<Self::Reply, FaustError>;
}

/// A job's time limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// The configured compile timeout (`--compile-timeout`) times this factor, in all.
    CompileTimeout(f64),
    /// This long in all.
    Whole(Duration),
    /// This long without a note: a job that notes as it goes is hung when it falls silent.
    Silence(Duration),
}

/// Runs one job from its JSON body and answers its reply as JSON; the worker's table holds one
/// per job ([`serve`]`::<J>`).
pub type Serve = fn(&Value, &(dyn Fn(Value) + Sync)) -> Result<Value, FaustError>;

/// The jobs a worker can run, by name.
pub type Jobs = &'static [(&'static str, Serve)];

/// [`Serve`] for the job `J`.
pub fn serve<J: Job>(body: &Value, note: &(dyn Fn(Value) + Sync)) -> Result<Value, FaustError> {
    let job = J::deserialize(body)
        .map_err(|e| FaustError::internal(format!("bad {} request: {e}", J::NAME)))?;
    let reply = job.run(&|n: J::Note| {
        if let Ok(n) = serde_json::to_value(n) {
            note(n)
        }
    })?;
    serde_json::to_value(reply)
        .map_err(|e| FaustError::internal(format!("cannot encode a {} reply: {e}", J::NAME)))
}

/// A job on its way to a worker: what the transport needs to know of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: &'static str,
    pub phase: Phase,
    pub limit: Limit,
    pub body: Value,
}

impl Task {
    pub fn of<J: Job>(job: &J) -> Result<Task, FaustError> {
        Ok(Task {
            name: J::NAME,
            phase: J::PHASE,
            limit: job.limit(),
            body: serde_json::to_value(job).map_err(|e| {
                FaustError::internal(format!("cannot encode a {} request: {e}", J::NAME))
            })?,
        })
    }
}

/// A request line on the worker's stdin.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub job: String,
    pub body: Value,
}

/// An answer line on the worker's stdout: notes while the job runs, then its reply or why it
/// failed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Event {
    Note(Value),
    Reply(Value),
    Failed(FaustError),
}

/// Runs the job named `name` from `jobs`.
pub(crate) fn dispatch(
    jobs: Jobs,
    name: &str,
    body: &Value,
    note: &(dyn Fn(Value) + Sync),
) -> Result<Value, FaustError> {
    let (_, serve) = jobs
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| FaustError::internal(format!("this worker cannot run a `{name}` job")))?;
    serve(body, note)
}
