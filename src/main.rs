//! The `uaiso` binary: everything happens in the library's `cli` module.

fn main() -> std::process::ExitCode {
    uaiso::cli::main()
}
