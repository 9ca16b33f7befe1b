use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `_GOMIG_COMPLETE=SHELL gomig -- WORDS...` (the completion scripts): print the candidates
    // for the last word and exit; otherwise nothing happens here.
    clap_complete::CompleteEnv::with_factory(<gomig::cli::Cli as clap::CommandFactory>::command)
        .var(gomig::cli::complete::VAR)
        .complete();
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
