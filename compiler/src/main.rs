//! The `kbc` command. All logic lives in the library; see `kbc --help`.

fn main() {
    std::process::exit(kbc::cli::main());
}
