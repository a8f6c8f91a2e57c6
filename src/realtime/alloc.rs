//! Counts heap allocations made on a thread while it is armed: the check that real-time code
//! (compute() in a timed loop or an audio callback) never allocates.
//!
//! The `faustperf` binary installs [`CountingAllocator`] as its global allocator; in a host
//! that does not, [`installed`] is false and profiles count no allocations (`None`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The system allocator, counting allocations on armed threads.
pub struct CountingAllocator;

static ARMED_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALL_ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

fn record() {
    ALL_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        ARMED_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's arguments; counting
// touches only atomics and a const-initialised thread-local Cell, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded as is (GlobalAlloc's contract holds for the caller).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Whether the process's global allocator is [`CountingAllocator`].
pub fn installed() -> bool {
    let before = ALL_ALLOCATIONS.load(Ordering::Relaxed);
    drop(std::hint::black_box(Box::new(0u64)));
    ALL_ALLOCATIONS.load(Ordering::Relaxed) > before
}

/// Arms the calling thread; the guard disarms it. Nest-free: arm only around real-time code.
pub fn arm() -> Armed {
    ARMED.with(|a| a.set(true));
    Armed
}

/// Allocations made on armed threads so far.
pub fn armed_allocations() -> u64 {
    ARMED_ALLOCATIONS.load(Ordering::Relaxed)
}

/// Disarms the thread when dropped.
pub struct Armed;

impl Drop for Armed {
    fn drop(&mut self) {
        ARMED.with(|a| a.set(false));
    }
}
