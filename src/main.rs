use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = gomig::cli::Cli::parse();
    // Ctrl-C mid-install removes the staging directory at once, not at the next command.
    gomig::interrupt::install();
    match gomig::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
