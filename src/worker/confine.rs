//! Confinement of a worker that runs code sent by others (the MCP server's workers): with
//! Landlock, the worker may read only the Faust libraries, the roots it is given and the system
//! files that measuring and the C++ compiler need, and may write only its private directory. Even a Faust `import("/etc/passwd")`
//! that slipped past the server's own check then fails to open.

use crate::libfaust::imports::LIBRARY_DIRS;
use landlock::{
    path_beneath_rules, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
    ABI,
};
use std::path::{Path, PathBuf};

/// System paths a worker reads after it has started: shared libraries loaded late, the CPU
/// description and the governor (see `measure::thread`), its own process entries, the shell
/// and `which` (libfaust runs `sh -c "which faust"` on every compile to find its libraries,
/// and crashes when that cannot run), and the C++ compiler with its headers.
const SYSTEM_READ: &[&str] = &[
    "/bin",
    "/usr/bin",
    "/usr/lib",
    "/lib",
    "/lib64",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/include",
    "/etc/ld.so.cache",
    "/proc/cpuinfo",
    "/proc/self",
    "/sys/devices/system/cpu",
    "/dev/urandom",
];

/// The Landlock ABI version the running kernel offers, or `None` without Landlock.
pub fn kernel_abi() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: landlock_create_ruleset with a null attribute, size 0 and the VERSION flag only
        // returns the ABI version (or -1); it creates nothing.
        let abi = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        (abi > 0).then_some(abi as i32)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Confines this thread and the threads and processes it starts from now on: read-only access
/// beneath `roots`, the Faust library directories, [`SYSTEM_READ`] and its own executable; no write anywhere but
/// beneath `private` and to `/dev/null` (where that shell sends `which`'s errors).
/// Returns how far the kernel enforced it, in words, or why it could not be set up.
pub fn confine(roots: &[PathBuf], private: &Path) -> Result<&'static str, landlock::RulesetError> {
    let abi = ABI::V7;
    let mut read: Vec<PathBuf> = roots.to_vec();
    read.extend(LIBRARY_DIRS.iter().map(PathBuf::from));
    read.extend(SYSTEM_READ.iter().map(PathBuf::from));
    // Its own executable, which counting instructions runs again under valgrind.
    read.extend(std::env::current_exe());
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(&read, AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(["/dev/null"], AccessFs::from_file(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules([private], AccessFs::from_all(abi))))
        .and_then(|r| r.restrict_self())?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => "fully enforced",
        RulesetStatus::PartiallyEnforced => "partially enforced (an older kernel ABI)",
        RulesetStatus::NotEnforced => "not enforced (the kernel has no Landlock)",
    })
}
