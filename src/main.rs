#![forbid(unsafe_code)]

fn main() {
    std::process::exit(vipctl::cli::main());
}
