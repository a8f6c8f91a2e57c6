//! `faustperf mcp`: the MCP server on stdio.

use super::cache::CacheArgs;
use super::common::{measuring_core, WorkerArgs};
use super::{exit, Stop};
use crate::mcp::{confinement, serve, Roots, ServerSettings};
use crate::measure::thread;
use crate::worker::confine;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct McpArgs {
    /// A directory whose .dsp files (and what they import) clients may read; repeatable
    /// [default: the current directory]. The Faust libraries are always readable.
    #[arg(long, value_name = "DIR")]
    allow_dir: Vec<PathBuf>,
    /// Core to pin the measuring thread to [default: the last core].
    #[arg(long)]
    core: Option<usize>,
    #[command(flatten)]
    workers: WorkerArgs,
    /// Do not read or write the compile cache.
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Serves until the client disconnects; 0 then, 2 on bad arguments, 1 if the server fails.
pub fn run(args: McpArgs) -> Result<i32, Stop> {
    let settings = settings(args).map_err(Stop::usage)?;
    eprintln!(
        "faustperf mcp: serving on stdio; readable: {}; {}",
        settings.roots.describe(),
        confinement(confine::kernel_abi())
    );
    serve(settings).map(|()| exit::OK).map_err(|e| Stop {
        code: exit::INTERNAL,
        message: e.to_string(),
    })
}

fn settings(args: McpArgs) -> Result<ServerSettings, String> {
    let dirs = if args.allow_dir.is_empty() {
        vec![std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?]
    } else {
        args.allow_dir
    };
    let roots = Roots::new(&dirs)?;
    let core = measuring_core(args.core)?;
    let mut worker = args.workers.config()?;
    if confine::kernel_abi().is_some() {
        worker.confine_to = Some(roots.dirs().to_vec());
    }
    let jobs = args.workers.jobs();
    if let Err(e) = thread::restrict_process(&thread::cores_except(core)) {
        eprintln!("warning: {e}; faustperf may share the measuring core with its own threads");
    }
    let cache = if args.no_cache {
        None
    } else {
        args.cache
            .open()
            .map_err(|e| eprintln!("warning: {e}; running without the compile cache"))
            .ok()
    };
    Ok(ServerSettings {
        roots,
        worker,
        jobs,
        core,
        cache,
    })
}
