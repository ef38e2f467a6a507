//! Command line: `weigence-chat` serves; `weigence-chat openapi` prints the OpenAPI document.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use weigence_chat::Application;
use weigence_chat::config::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some("openapi") => {
            println!("{}", weigence_chat::http::especificacion());
            return ExitCode::SUCCESS;
        }
        Some(otro) => {
            eprintln!("unknown command {otro:?}; usage: weigence-chat [serve|openapi]");
            return ExitCode::from(2);
        }
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e @ weigence_chat::StartError::Config(_)) => {
            eprintln!("weigence-chat cannot start: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("weigence-chat cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    println!("weigence-chat listening on http://{}", app.address());
    match app
        .run_until_stopped(weigence_chat::senal_de_apagado())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weigence-chat stopped with an error: {e}");
            ExitCode::from(1)
        }
    }
}
