//! `fengqiao-client`: the command line over the client library (see `fengqiao_client::cli`).

use std::process::ExitCode;

use clap::Parser;
use fengqiao_client::cli::{run, Cli};
use fengqiao_client::ClientError;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout();
    match run(cli, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("错误：{error}");
            ExitCode::from(match error {
                ClientError::LoginRequired(_) | ClientError::NotLoggedIn => 3,
                ClientError::DeviceRevoked(_) | ClientError::UserRevoked(_) => 4,
                _ => 1,
            })
        }
    }
}
