/// Counts heap allocations on threads running real-time code (see `realtime::alloc`).
#[global_allocator]
static ALLOCATOR: faustperf::realtime::alloc::CountingAllocator =
    faustperf::realtime::alloc::CountingAllocator;

fn main() {
    std::process::exit(faustperf::cli::main());
}
