//! `faustperf cache stats|clear`, and the cache options shared with `analyze`.

use super::{exit, Stop};
use crate::cache::{Cache, DEFAULT_MAX_BYTES};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Where the compile cache is and how large it may grow.
#[derive(Args)]
pub struct CacheArgs {
    /// Compile cache directory [default: $FAUSTPERF_CACHE_DIR, else $XDG_CACHE_HOME/faustperf,
    /// else ~/.cache/faustperf].
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Size cap of the compile cache, MiB; least recently used entries go first.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_BYTES >> 20, global = true)]
    pub cache_max_mb: u64,
}

impl CacheArgs {
    /// The cache, or why it cannot be used.
    pub fn open(&self) -> Result<Cache, String> {
        let dir = self
            .cache_dir
            .clone()
            .or_else(Cache::default_dir)
            .ok_or("no cache directory: set --cache-dir, FAUSTPERF_CACHE_DIR or HOME")?;
        Cache::open(&dir, self.cache_max_mb << 20)
            .map_err(|e| format!("cache directory {} is not usable: {e}", dir.display()))
    }
}

#[derive(Args)]
pub struct CacheCommand {
    #[command(subcommand)]
    action: CacheAction,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Subcommand)]
enum CacheAction {
    /// Print the cache directory, its entries and their size (JSON).
    Stats,
    /// Remove every entry.
    Clear,
}

pub fn run(command: CacheCommand) -> Result<i32, Stop> {
    let cache = command.cache.open().map_err(Stop::usage)?;
    match command.action {
        CacheAction::Stats => {
            // Stats hold a path and numbers: serialising cannot fail.
            let stats = serde_json::to_string_pretty(&cache.stats()).expect("stats serialise");
            println!("{stats}");
            Ok(exit::OK)
        }
        CacheAction::Clear => {
            let dir = cache.dir().display();
            let n = (cache.clear())
                .map_err(|e| Stop(exit::INTERNAL, format!("cannot clear {dir}: {e}")))?;
            eprintln!("removed {n} entries from {dir}");
            Ok(exit::OK)
        }
    }
}
