/// Counts heap allocations on threads running real-time code (see `profile::alloc`).
#[global_allocator]
static ALLOCATOR: faustperf::profile::alloc::CountingAllocator =
    faustperf::profile::alloc::CountingAllocator;

fn main() {
    std::process::exit(faustperf::cli::main());
}
