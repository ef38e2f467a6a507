//! Command line: `weigence-chat` serves; `weigence-chat doctor` checks a deployment;
//! `weigence-chat openapi` prints the OpenAPI document.

use std::process::ExitCode;

use weigence_chat::Application;
use weigence_chat::config::Settings;

const USO: &str = "usage: weigence-chat [serve | doctor [--json] [--cookie VALUE] | openapi]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => {}
        Some("openapi") => {
            println!("{}", weigence_chat::http::especificacion());
            return ExitCode::SUCCESS;
        }
        Some("doctor") => return doctor(&args[1..]).await,
        Some(otro) => {
            eprintln!("unknown command {otro:?}; {USO}");
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
    weigence_chat::operacion::registro::iniciar(settings.log_format);
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
    if let Some(metricas) = app.metrics_address() {
        println!("weigence-chat metrics on http://{metricas}/metrics");
    }
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

/// `doctor [--json] [--cookie VALUE]`: prints the report; the exit code is its verdict.
async fn doctor(args: &[String]) -> ExitCode {
    let mut json = false;
    let mut cookie = None;
    let mut resto = args.iter();
    while let Some(arg) = resto.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--cookie" => match resto.next() {
                Some(v) => cookie = Some(v.clone()),
                None => {
                    eprintln!("--cookie needs a value; {USO}");
                    return ExitCode::from(2);
                }
            },
            otro => {
                eprintln!("unknown doctor option {otro:?}; {USO}");
                return ExitCode::from(2);
            }
        }
    }
    let informe = weigence_chat::doctor::examinar(Settings::from_env(), cookie.as_deref()).await;
    if json {
        println!("{}", informe.json());
    } else {
        print!("{}", informe.tabla());
    }
    ExitCode::from(informe.codigo_salida())
}
