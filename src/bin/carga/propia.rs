//! Scenarios of our own API: message search (sequential requests, so a slow search without
//! the index is measured whole) and attachments (10 MB uploads and downloads, one alone and
//! 20 at once, with the server's memory sampled meanwhile).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Args;
use crate::flota::{Comun, Problemas};
use crate::http;
use crate::medir::{self, Histograma, redondear};

/// `search`: `--requests N` sequential searches of each `--query` (comma-separated) as
/// `--user`; p50/p99 per query. `--label` names the run (e.g. with or without the index).
pub async fn busqueda(c: &Comun, a: &Args) -> Value {
    let n: u64 = a.num("requests", 50);
    let rut = a.texto("user").unwrap_or_default();
    let etiqueta = a.texto("label").unwrap_or_default();
    let problemas = Arc::new(Problemas::default());
    let mut resultados = Vec::new();
    for q in a.texto("query").unwrap_or_default().split(',') {
        eprintln!("  search {q:?} ({etiqueta}): {n} requests");
        let ruta = format!("/api/chat/buscar?q={}&limite=20", codificar(q));
        let peticion = http::peticion_get(&c.destino.host, &ruta, &c.cookie(&rut));
        let latencias = Histograma::default();
        let mut encontrados = 0;
        match http::Conexion::abrir(c.destino.addr).await {
            Err(e) => problemas.anotar(e),
            Ok(mut conexion) => {
                for _ in 0..n {
                    let t = Instant::now();
                    match conexion.get(&peticion).await {
                        Ok(r) if r.status == 200 => {
                            latencias.registrar(t.elapsed());
                            let v: Value = serde_json::from_slice(&r.cuerpo).unwrap_or_default();
                            encontrados = v["resultados"].as_array().map_or(0, Vec::len);
                        }
                        Ok(r) => problemas.anotar(format!("search: status {}", r.status)),
                        Err(e) => {
                            problemas.anotar(format!("search: {e}"));
                            break;
                        }
                    }
                }
            }
        }
        resultados.push(json!({
            "query": q,
            "results_per_page": encontrados,
            "latency": latencias.resumen(),
        }));
    }
    json!({
        "scenario": "search",
        "label": etiqueta,
        "searches": resultados,
        "errors": problemas.json(),
    })
}

/// `attachments`: uploads and downloads of a `--mb` MB file (PNG-looking bytes) to
/// `--conv` as `--user`: one alone, then `--parallel` at once; MB/s and the server's RSS.
pub async fn adjuntos(c: &Comun, a: &Args) -> Value {
    let mb: usize = a.num("mb", 10);
    let paralelo: usize = a.num("parallel", 20);
    let rut = a.texto("user").unwrap_or_default();
    let conv = a.texto("conv").unwrap_or_default();
    let problemas = Arc::new(Problemas::default());
    let mut datos = b"\x89PNG\r\n\x1a\n".to_vec();
    datos.resize(mb * 1024 * 1024 - 1024, 7);
    let datos = Arc::new(datos);
    let ruta = format!("/api/chat/conversaciones/{conv}/adjuntos?nombre=bench.png");
    let cookie = c.cookie(&rut);
    let rss_inicial = medir::status_kb(c.procesos.servidor, "VmRSS").unwrap_or(0);
    let mut fases = Vec::new();
    for n in [1, paralelo] {
        eprintln!("  attachments: {n} x {mb} MB up, then down");
        let pico = Arc::new(AtomicU64::new(0));
        let parar = Arc::new(AtomicBool::new(false));
        let muestreo = {
            let (pico, parar, pid) = (pico.clone(), parar.clone(), c.procesos.servidor);
            tokio::spawn(async move {
                while !parar.load(Ordering::Relaxed) {
                    let rss = medir::status_kb(pid, "VmRSS").unwrap_or(0);
                    pico.fetch_max(rss, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        // Uploads.
        let inicio = Instant::now();
        let mut tareas = Vec::new();
        for _ in 0..n {
            let (datos, problemas, addr) = (datos.clone(), problemas.clone(), c.destino.addr);
            let cabeza = http::peticion_post(&c.destino.host, &ruta, &cookie, datos.len());
            tareas.push(tokio::spawn(async move {
                let mut conexion = http::Conexion::abrir(addr).await.ok()?;
                match conexion.enviar(&cabeza, &datos).await {
                    Ok(r) if r.status == 201 => {
                        let v: Value = serde_json::from_slice(&r.cuerpo).ok()?;
                        v["adjunto"]["url"].as_str().map(str::to_owned)
                    }
                    Ok(r) => {
                        problemas.anotar(format!("upload: status {}", r.status));
                        None
                    }
                    Err(e) => {
                        problemas.anotar(format!("upload: {e}"));
                        None
                    }
                }
            }));
        }
        let mut urls = Vec::new();
        for t in tareas {
            if let Ok(Some(u)) = t.await {
                urls.push(u);
            }
        }
        let subida = inicio.elapsed();
        // Downloads.
        let inicio = Instant::now();
        let mut tareas = Vec::new();
        for url in &urls {
            let (problemas, addr) = (problemas.clone(), c.destino.addr);
            let peticion = http::peticion_get(&c.destino.host, url, &cookie);
            let esperado = datos.len();
            tareas.push(tokio::spawn(async move {
                let mut conexion = http::Conexion::abrir(addr).await.ok()?;
                match conexion.get(&peticion).await {
                    Ok(r) if r.status == 200 && r.cuerpo.len() == esperado => Some(()),
                    Ok(r) => {
                        problemas.anotar(format!(
                            "download: status {} ({} bytes)",
                            r.status,
                            r.cuerpo.len()
                        ));
                        None
                    }
                    Err(e) => {
                        problemas.anotar(format!("download: {e}"));
                        None
                    }
                }
            }));
        }
        let mut bajadas = 0;
        for t in tareas {
            if let Ok(Some(())) = t.await {
                bajadas += 1;
            }
        }
        let bajada = inicio.elapsed();
        parar.store(true, Ordering::Relaxed);
        let _ = muestreo.await;
        let mb_total = |k: usize| (k * datos.len()) as f64 / (1024.0 * 1024.0);
        fases.push(json!({
            "at_once": n,
            "uploads_ok": urls.len(),
            "downloads_ok": bajadas,
            "upload_secs": redondear(subida.as_secs_f64(), 3),
            "upload_mb_per_s": redondear(mb_total(urls.len()) / subida.as_secs_f64(), 1),
            "download_secs": redondear(bajada.as_secs_f64(), 3),
            "download_mb_per_s": redondear(mb_total(bajadas) / bajada.as_secs_f64(), 1),
            "server_rss_peak_kb": pico.load(Ordering::Relaxed),
        }));
    }
    json!({
        "scenario": "attachments",
        "file_mb": mb,
        "server_rss_before_kb": rss_inicial,
        "server_vmhwm_kb": medir::status_kb(c.procesos.servidor, "VmHWM"),
        "phases": fases,
        "errors": problemas.json(),
    })
}

/// Percent-encodes a query value.
fn codificar(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
