//! `blackday check --calendar FILE_OR_URL [--at TIME] [--zone ZONE] [--json]`: is TIME inside a BlackDay of this
//! calendar, until when, and what is next. Exit status 0 clear, 1 blocked, 2 error (see `blackday --help`).

use std::process::ExitCode;

use blackday_gate::cli::{self, Command, USAGE};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let check = match cli::parse_args(std::env::args().skip(1)) {
        Ok(Command::Check(check)) => check,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("blackday: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match cli::check(&check, chrono::Utc::now()).await {
        Ok(answer) => {
            println!("{}", answer.text);
            ExitCode::from(answer.exit)
        }
        Err(problem) => {
            eprintln!("blackday: {problem}");
            ExitCode::from(2)
        }
    }
}
