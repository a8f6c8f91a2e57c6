//! Preparing the measuring thread: core pinning, flush-to-zero, real-time priority.

use serde::{Deserialize, Serialize};

/// What the measuring thread got when it asked for its conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThreadConditions {
    /// The core the thread was pinned to, or `None` when pinning failed or was not asked for.
    pub core: Option<usize>,
    /// Whether denormals were flushed to zero (FTZ and DAZ on x86-64, FZ on aarch64).
    pub flush_denormals: bool,
    /// Whether the thread got real-time scheduling (SCHED_FIFO, priority 80).
    pub realtime_priority: bool,
    /// The CPU frequency governor of the pinned core, when readable.
    pub governor: Option<String>,
}

/// The core the measuring thread uses unless told otherwise: the last one, leaving core 0 to the
/// rest of the system.
pub fn default_core() -> Option<usize> {
    all_cores().last().copied()
}

/// Every core this process was allowed to use when it started (read once, before
/// [`restrict_process`] narrows it, so that worker processes can be given all of them).
pub fn all_cores() -> Vec<usize> {
    static CORES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    CORES
        .get_or_init(|| {
            core_affinity::get_core_ids()
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.id)
                .collect()
        })
        .clone()
}

/// Every core but `core` (every core when that leaves none).
pub fn cores_except(core: Option<usize>) -> Vec<usize> {
    let all = all_cores();
    let others: Vec<usize> = all.iter().copied().filter(|&c| Some(c) != core).collect();
    if others.is_empty() {
        all
    } else {
        others
    }
}

/// Restricts the calling thread, and the threads and processes it starts afterwards, to
/// `cores` (no change when empty); says why when the system refuses.
pub fn restrict_process(cores: &[usize]) -> Result<(), AffinityError> {
    if cores.is_empty() {
        return Ok(());
    }
    // Read the cores allowed so far before narrowing them.
    all_cores();
    let refused = |error: std::io::Error| AffinityError {
        cores: cores.to_vec(),
        error,
    };
    #[cfg(target_os = "linux")]
    {
        // SAFETY: cpu_set_t is plain data, zeroed then filled with CPU_SET; sched_setaffinity
        // with pid 0 applies to the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &c in cores {
                libc::CPU_SET(c, &mut set);
            }
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 {
                Ok(())
            } else {
                Err(refused(std::io::Error::last_os_error()))
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(refused(std::io::ErrorKind::Unsupported.into()))
    }
}

/// The system refused to restrict this process to some cores.
#[derive(Debug, thiserror::Error)]
#[error("cannot restrict this process to cores {cores:?}: {error}")]
pub struct AffinityError {
    pub cores: Vec<usize>,
    pub error: std::io::Error,
}

/// Applies the requested conditions to the calling thread and reports what was granted.
/// The previous floating-point mode is returned to restore after measuring.
pub fn prepare(
    core: Option<usize>,
    flush_denormals: bool,
    realtime: bool,
) -> (ThreadConditions, u32) {
    let pinned = core.filter(|&id| core_affinity::set_for_current(core_affinity::CoreId { id }));
    let saved = fp_mode();
    let flushed = flush_denormals && self::flush_denormals(true);
    let realtime_priority = realtime && set_realtime();
    let governor = pinned.and_then(|id| {
        std::fs::read_to_string(format!(
            "/sys/devices/system/cpu/cpu{id}/cpufreq/scaling_governor"
        ))
        .ok()
        .map(|g| g.trim().to_string())
    });
    (
        ThreadConditions {
            core: pinned,
            flush_denormals: flushed,
            realtime_priority,
            governor,
        },
        saved,
    )
}

/// Restores the floating-point mode saved by [`prepare`].
pub fn restore_fp_mode(saved: u32) {
    write_fp_mode(saved);
}

#[cfg(target_arch = "x86_64")]
fn fp_mode() -> u32 {
    let mut csr: u32 = 0;
    // SAFETY: stmxcsr stores the SSE control register into the 4 bytes we point to.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack)) };
    csr
}

#[cfg(target_arch = "x86_64")]
fn write_fp_mode(csr: u32) {
    // SAFETY: ldmxcsr loads a value read by stmxcsr, possibly with the FTZ (bit 15) and DAZ
    // (bit 6) bits set: both are valid on every x86-64 CPU with SSE2.
    unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack)) };
}

/// The flush-to-zero bits of the floating-point mode: FTZ (15) and DAZ (6) of MXCSR.
#[cfg(target_arch = "x86_64")]
const FTZ_BITS: u32 = (1 << 15) | (1 << 6);

#[cfg(target_arch = "aarch64")]
fn fp_mode() -> u32 {
    let fpcr: u64;
    // SAFETY: reading FPCR has no side effect.
    unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) fpcr) };
    fpcr as u32
}

#[cfg(target_arch = "aarch64")]
fn write_fp_mode(mode: u32) {
    // SAFETY: writes back a value read from FPCR, possibly with FZ (bit 24) set.
    unsafe { std::arch::asm!("msr fpcr, {}", in(reg) mode as u64) };
}

/// The flush-to-zero bit of the floating-point mode: FZ (24) of FPCR.
#[cfg(target_arch = "aarch64")]
const FTZ_BITS: u32 = 1 << 24;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn fp_mode() -> u32 {
    0
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn write_fp_mode(_: u32) {}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const FTZ_BITS: u32 = 0;

/// Turns flushing of denormals to zero on or off for the calling thread; returns whether the
/// CPU now does what was asked.
pub fn flush_denormals(on: bool) -> bool {
    let mode = fp_mode();
    write_fp_mode(if on {
        mode | FTZ_BITS
    } else {
        mode & !FTZ_BITS
    });
    FTZ_BITS != 0 && (fp_mode() & FTZ_BITS == FTZ_BITS) == on
}

fn set_realtime() -> bool {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 80 };
        // SAFETY: sets the calling thread's policy; `param` is a valid sched_param.
        unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_to_zero_turns_denormals_into_zero_and_restores() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        std::thread::spawn(move || {
            let (conditions, saved) = prepare(None, true, false);
            if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                assert!(conditions.flush_denormals);
                assert_eq!(std::hint::black_box(tiny) / 2.0, 0.0);
            }
            restore_fp_mode(saved);
            assert!(std::hint::black_box(tiny) / 2.0 > 0.0);
        })
        .join()
        .unwrap();
    }
}
