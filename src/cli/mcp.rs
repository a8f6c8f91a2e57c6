//! `faustperf mcp`: the MCP server on stdio.

use super::common::MachineArgs;
use super::{exit, Stop};
use crate::mcp::{confinement, serve, Roots, ServerSettings};
use crate::worker::confine;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct McpArgs {
    /// A directory whose .dsp files (and what they import) clients may read; repeatable
    /// [default: the current directory]. The Faust libraries are always readable.
    #[arg(long, value_name = "DIR")]
    allow_dir: Vec<PathBuf>,
    #[command(flatten)]
    machine: MachineArgs,
}

/// Serves until the client disconnects; 0 then, 2 on bad arguments, 1 if the server fails.
pub fn run(args: McpArgs) -> Result<i32, Stop> {
    let settings = settings(args).map_err(Stop::usage)?;
    eprintln!(
        "faustperf mcp: serving on stdio; readable: {}; {}",
        settings.roots.describe(),
        confinement(confine::kernel_abi())
    );
    serve(settings)
        .map(|()| exit::OK)
        .map_err(|e| Stop(exit::INTERNAL, e.to_string()))
}

fn settings(args: McpArgs) -> Result<ServerSettings, String> {
    let dirs = if args.allow_dir.is_empty() {
        vec![std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?]
    } else {
        args.allow_dir
    };
    let roots = Roots::new(&dirs)?;
    let machine = &args.machine;
    let core = machine.core()?;
    let mut worker = machine.workers.config()?;
    if confine::kernel_abi().is_some() {
        worker.confine_to = Some(roots.dirs().to_vec());
    }
    machine.keep_off(core);
    Ok(ServerSettings {
        roots,
        worker,
        jobs: machine.workers.jobs(),
        core,
        cache: machine.cache(),
    })
}
