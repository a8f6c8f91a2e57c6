fn main() {
    std::process::exit(faustperf::cli::main());
}
