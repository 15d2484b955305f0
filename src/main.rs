//! The `meshscope` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    meshscope::app_main::main_with_args(std::env::args_os().collect())
}
