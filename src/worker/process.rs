//! The worker process: reads job requests on stdin and answers each on stdout with its notes,
//! then its reply or why it failed, one JSON object a line.

use super::job::{dispatch, Event, Jobs, Request};
use crate::dsp::FaustError;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// The hidden subcommand that starts a worker.
pub const WORKER_SUBCOMMAND: &str = "__worker";

/// Runs the worker until stdin closes, each request by the job of its name in `jobs`.
/// `memory_limit_mb` caps the memory it can write; `cores`, when not empty, are the only cores its
/// threads may run on; `confine_to`, when not empty, confines it with Landlock to reading
/// those roots (see [`super::confine`]).
pub fn worker_main(
    jobs: Jobs,
    memory_limit_mb: u64,
    cores: &[usize],
    confine_to: &[PathBuf],
) -> std::io::Result<()> {
    let out = std::sync::Mutex::new(protocol_stdout()?);
    cap_memory(memory_limit_mb);
    if let Err(e) = crate::measure::thread::restrict_process(cores) {
        eprintln!("faustperf worker: {e}");
    }
    let private = private_dir(std::process::id());
    if !confine_to.is_empty() {
        // libfaust is loaded first, while its libraries can still be found; then the worker is
        // confined before it starts any thread, so that every thread is. The one directory it
        // may write is its own, which becomes its temporary directory (the C++ backend builds
        // there).
        let _ = crate::libfaust::LibFaust::get();
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        if let Err(e) = builder.create(&private) {
            eprintln!("faustperf worker: cannot create {}: {e}", private.display());
        }
        // SAFETY: no other thread runs yet, so none reads the environment meanwhile.
        std::env::set_var("TMPDIR", &private);
        match super::confine::confine(confine_to, &private) {
            Ok("fully enforced") => {}
            Ok(status) => eprintln!("faustperf worker: Landlock confinement {status}"),
            Err(e) => {
                eprintln!("faustperf worker: cannot set up Landlock: {e}; running unconfined")
            }
        }
    }
    exit_when_orphaned();
    let send = |event: &Event| -> std::io::Result<()> {
        let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
        serde_json::to_writer(&mut *out, event)?;
        out.write_all(b"\n")?;
        out.flush()
    };
    let note = |note| {
        let _ = send(&Event::Note(note));
    };
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let event = match serde_json::from_str::<Request>(&line?) {
            Ok(request) => dispatch(jobs, &request.job, &request.body, &note),
            Err(e) => Err(FaustError::internal(format!(
                "bad request from the supervisor: {e}"
            ))),
        }
        .map_or_else(Event::Failed, Event::Reply);
        send(&event)?;
    }
    // Its contents; the directory itself, in the temporary directory it may not write, goes
    // with the supervisor.
    let _ = std::fs::remove_dir_all(&private);
    Ok(())
}

/// Keeps the real stdout for the protocol and points fd 1 at stderr, so that nothing libfaust or
/// LLVM prints can corrupt the protocol.
#[cfg(unix)]
pub fn protocol_stdout() -> std::io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup and dup2 on the process's own standard descriptors; the duplicate is owned by
    // the File we return and nothing else closes it.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 || libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(std::fs::File::from_raw_fd(fd))
    }
}

#[cfg(not(unix))]
pub fn protocol_stdout() -> std::io::Result<std::io::Stdout> {
    Ok(std::io::stdout())
}

/// The directory a confined worker (process `pid`) may write, removed when it ends (by the
/// supervisor when it was killed).
pub fn private_dir(pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("faustperf-worker-{pid}"))
}

/// Caps the memory the worker can write (RLIMIT_DATA: heap and private writable mappings): a
/// program that allocates without bound makes the worker fail an allocation and die, which the
/// supervisor reports, instead of swapping the machine. Not the address space (RLIMIT_AS):
/// WebAssembly runtimes reserve several GiB of it, untouched, for every module memory.
fn cap_memory(limit_mb: u64) {
    #[cfg(unix)]
    {
        let bytes = limit_mb.saturating_mul(1 << 20) as libc::rlim_t;
        let limit = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: bytes,
        };
        // SAFETY: setrlimit on this process with a valid struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_DATA, &limit) } != 0 {
            eprintln!(
                "faustperf worker: cannot cap memory at {limit_mb} MB: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Exits when the supervisor dies (the worker is then re-parented), even while the main thread
/// is stuck inside libfaust, so that no worker outlives its faustperf.
fn exit_when_orphaned() {
    #[cfg(unix)]
    {
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() };
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(200));
            // SAFETY: as above; _exit ends the process without running destructors, which is
            // what we want while another thread may be inside libfaust.
            unsafe {
                if libc::getppid() != parent {
                    libc::_exit(3);
                }
            }
        });
    }
}
