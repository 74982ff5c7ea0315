//! The `talkzone` binary: everything is in the library; see `talkzone_server::cli`.

fn main() -> std::process::ExitCode {
    talkzone_server::cli::main()
}
