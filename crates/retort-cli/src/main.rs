//! The `retort` binary; all logic lives in the library.

fn main() -> std::process::ExitCode {
    retort_cli::main_exit_code()
}
