//! The benchmark scenarios of `scripts/bench`. Each returns one JSON object of figures with an
//! `errors` entry; a run fails on errors (lost connections, undelivered messages, non-200
//! answers, growing statement counts), never on performance.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::Args;
use crate::flota::{Comun, Flota, Plan, Problemas, Relojes};
use crate::http;
use crate::medir::{self, Histograma, Instantanea, redondear};
use crate::sio::{Entrante, emitir};

/// The part of `mensaje_recibido` the latency scenarios read.
#[derive(Deserialize)]
struct Recibido<'a> {
    contenido: &'a str,
    usuario_id: &'a str,
}

/// Message counters shared by the clients of a scenario.
#[derive(Default)]
struct Contadores {
    /// `mensaje_enviar` frames handed to a client.
    enviados: AtomicU64,
    /// Acks carrying a stored message.
    almacenados: AtomicU64,
    /// Acks with `success: false`.
    rechazados: AtomicU64,
    /// `mensaje_recibido` events received (by any member, sender included).
    entregados: AtomicU64,
}

impl Contadores {
    fn leer(&self) -> [u64; 4] {
        [
            self.enviados.load(Ordering::Relaxed),
            self.almacenados.load(Ordering::Relaxed),
            self.rechazados.load(Ordering::Relaxed),
            self.entregados.load(Ordering::Relaxed),
        ]
    }
}

/// Conversations of the scenario's database with their participants, by id.
async fn conversaciones(c: &Comun, grupales: bool) -> Result<Vec<(String, Vec<String>)>, String> {
    let filas =
        c.db.query(
            "SELECT c.id::text, array_agg(p.usuario_id::text ORDER BY p.usuario_id) \
             FROM chat_conversaciones c JOIN chat_participantes p ON p.conversacion_id = c.id \
             WHERE coalesce(c.es_grupal, false) = $1 GROUP BY c.id ORDER BY c.id",
            &[&grupales],
        )
        .await
        .map_err(|e| format!("reading conversations: {e}"))?;
    Ok(filas.iter().map(|f| (f.get(0), f.get(1))).collect())
}

async fn contar_mensajes(c: &Comun) -> i64 {
    c.db.query_one("SELECT count(*) FROM chat_mensajes", &[])
        .await
        .map(|f| f.get(0))
        .unwrap_or(-1)
}

/// `{"conversacion_id": id, "contenido": texto}`.
fn datos_mensaje(conversacion: &str, contenido: &str) -> String {
    format!("{{\"conversacion_id\":\"{conversacion}\",\"contenido\":\"{contenido}\"}}")
}

/// The sequence number in a message text like `L123`.
fn secuencia(contenido: &str) -> Option<usize> {
    contenido.get(1..)?.parse().ok()
}

fn rss(c: &Comun) -> u64 {
    medir::status_kb(c.procesos.servidor, "VmRSS").unwrap_or(0)
}

/// TCP memory the kernel holds for all sockets (both ends), from `/proc/net/sockstat`, in kB.
fn memoria_tcp_kernel_kb() -> u64 {
    let texto = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    texto
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| {
            let campos: Vec<&str> = l.split_whitespace().collect();
            let i = campos.iter().position(|c| *c == "mem")?;
            campos.get(i + 1)?.parse::<u64>().ok()
        })
        .map(|paginas| paginas * 4)
        .unwrap_or(0)
}

/// Scenario 1: N authenticated idle clients; the server's resident memory per connection.
pub async fn capacidad(c: &Comun, a: &Args) -> Value {
    let n: usize = a.num("clients", 20_000);
    let espera: u64 = a.num("hold-secs", 30);
    let paralelo: usize = a.num("parallel", 256);
    let problemas = Arc::new(Problemas::default());
    let ruts: Vec<String> = match c
        .db
        .query(
            "SELECT rut_usuario::text FROM usuarios ORDER BY rut_usuario LIMIT $1",
            &[&(n as i64)],
        )
        .await
    {
        Ok(filas) => filas.iter().map(|f| f.get(0)).collect(),
        Err(e) => {
            return json!({"scenario": "capacity", "errors": {"count": 1, "first": [e.to_string()]}});
        }
    };
    if ruts.len() < n {
        problemas.anotar(format!("only {} users seeded, {n} asked", ruts.len()));
    }
    // Let the freshly started server settle (pool connections, first allocations).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_antes = rss(c);
    let tcp_antes = memoria_tcp_kernel_kb();
    let planes = ruts
        .into_iter()
        .map(|rut| Plan { rut, sala: None })
        .collect();
    let t0 = Instantanea::tomar(c.procesos);
    let flota = Flota::lanzar(c, planes, paralelo, &problemas, |_, _| {
        |_: Entrante<'_>| None
    })
    .await;
    let t1 = Instantanea::tomar(c.procesos);
    eprintln!(
        "  holding {} idle connections for {espera} s",
        flota.conectados
    );
    let mut rss_max = rss(c);
    let fin = Instant::now() + Duration::from_secs(espera);
    while Instant::now() < fin {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss_max = rss_max.max(rss(c));
    }
    let rss_conectado = rss(c);
    let tcp_conectado = memoria_tcp_kernel_kb();
    let t2 = Instantanea::tomar(c.procesos);
    let hwm = medir::status_kb(c.procesos.servidor, "VmHWM").unwrap_or(0);
    let generador_rss = medir::status_kb(std::process::id(), "VmRSS").unwrap_or(0);
    let conectados = flota.conectados;
    let vivos = conectados as u64 - flota.perdidos();
    let apertura = flota.apertura.clone();
    let perdidos = flota.parar().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_despues = rss(c);
    let por_conexion =
        |kb: u64| redondear(kb.saturating_sub(rss_antes) as f64 / vivos.max(1) as f64, 2);
    json!({
        "scenario": "capacity",
        "clients_target": n,
        "connected": conectados,
        "alive_at_end_of_hold": vivos,
        "lost": perdidos,
        "hold_s": espera,
        "ramp": apertura,
        "server_rss_kb": {
            "before": rss_antes,
            "connected": rss_conectado,
            "max_during_hold": rss_max,
            "peak_vmhwm": hwm,
            "after_close": rss_despues,
        },
        "kb_per_connection": por_conexion(rss_conectado),
        "kb_per_connection_peak": por_conexion(hwm),
        "kernel_tcp_kb_per_connection_both_ends": redondear(
            tcp_conectado.saturating_sub(tcp_antes) as f64 / vivos.max(1) as f64, 2),
        "generator_rss_kb": generador_rss,
        "cpu_ramp": t0.hasta(&t1),
        "cpu_idle_hold": t1.hasta(&t2),
        "errors": problemas.json(),
    })
}

/// Scenario 2: pairs of clients send with acks as fast as they can; then pgbench does the same
/// database work.
pub async fn rendimiento(c: &Comun, a: &Args) -> Value {
    let n: usize = a.num("clients", 2000);
    let segundos: u64 = a.num("secs", 30);
    let calentamiento: u64 = a.num("warmup", 5);
    let problemas = Arc::new(Problemas::default());
    let pares = match conversaciones(c, false).await {
        Ok(p) => p,
        Err(e) => return json!({"scenario": "throughput", "errors": {"count": 1, "first": [e]}}),
    };
    let mut planes = Vec::new();
    for (id, miembros) in pares.iter().take(n / 2) {
        for rut in miembros.iter().take(2) {
            planes.push(Plan {
                rut: rut.clone(),
                sala: Some(id.clone()),
            });
        }
    }
    if planes.len() < n {
        problemas.anotar(format!("only {} clients seeded, {n} asked", planes.len()));
    }
    let cuentas = Arc::new(Contadores::default());
    let acks = Arc::new(Histograma::default());
    let corriendo = Arc::new(AtomicBool::new(false));
    let filas_antes = contar_mensajes(c).await;
    let flota = Flota::lanzar(c, planes, 256, &problemas, |_, plan| {
        let (cuentas, acks, corriendo, problemas) = (
            cuentas.clone(),
            acks.clone(),
            corriendo.clone(),
            problemas.clone(),
        );
        let datos = datos_mensaje(plan.sala.as_deref().unwrap_or_default(), "T");
        let mut enviado = Instant::now();
        let mut siguiente_ack = 1u64;
        move |e: Entrante<'_>| match e {
            Entrante::Ack { datos: r, .. } => {
                if r.contains("\"success\":false") {
                    cuentas.rechazados.fetch_add(1, Ordering::Relaxed);
                    problemas.anotar(format!("send refused: {r}"));
                } else {
                    cuentas.almacenados.fetch_add(1, Ordering::Relaxed);
                    acks.registrar(enviado.elapsed());
                }
                corriendo.load(Ordering::Relaxed).then(|| {
                    cuentas.enviados.fetch_add(1, Ordering::Relaxed);
                    enviado = Instant::now();
                    siguiente_ack += 1;
                    emitir("mensaje_enviar", &datos, Some(siguiente_ack))
                })
            }
            Entrante::Evento {
                nombre: "mensaje_recibido",
                ..
            } => {
                cuentas.entregados.fetch_add(1, Ordering::Relaxed);
                None
            }
            Entrante::Evento {
                nombre: "error",
                datos,
            } => {
                problemas.anotar(format!("error event: {datos}"));
                None
            }
            _ => None,
        }
    })
    .await;
    // Start: every client sends its first message; each ack triggers the next one.
    corriendo.store(true, Ordering::Relaxed);
    for (i, cliente) in flota.clientes.iter().enumerate() {
        let sala = &pares[i / 2].0;
        cuentas.enviados.fetch_add(1, Ordering::Relaxed);
        let _ = cliente
            .tx
            .send(emitir("mensaje_enviar", &datos_mensaje(sala, "T"), Some(1)));
    }
    tokio::time::sleep(Duration::from_secs(calentamiento)).await;
    let (c0, t0) = (cuentas.leer(), Instantanea::tomar(c.procesos));
    tokio::time::sleep(Duration::from_secs(segundos)).await;
    let (c1, t1) = (cuentas.leer(), Instantanea::tomar(c.procesos));
    corriendo.store(false, Ordering::Relaxed);
    // Drain: every sent message is acked and delivered to both members.
    let limite = Instant::now() + Duration::from_secs(15);
    while Instant::now() < limite {
        let [e, s, r, d] = cuentas.leer();
        if s + r >= e && d >= 2 * s {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let [enviados, almacenados, rechazados, entregados] = cuentas.leer();
    let filas = contar_mensajes(c).await - filas_antes;
    if almacenados + rechazados < enviados {
        problemas.anotar(format!(
            "{} sends never acked",
            enviados - almacenados - rechazados
        ));
    }
    if filas != almacenados as i64 {
        problemas.anotar(format!("{filas} rows stored but {almacenados} acks"));
    }
    if entregados < 2 * almacenados {
        problemas.anotar(format!(
            "{} deliveries missing",
            2 * almacenados - entregados
        ));
    }
    let apertura = flota.apertura.clone();
    let conectados = flota.conectados;
    flota.parar().await;
    let ventana = segundos as f64;
    let almacenados_s = (c1[1] - c0[1]) as f64 / ventana;
    let mut figura = json!({
        "scenario": "throughput",
        "clients": conectados,
        "conversations": conectados / 2,
        "warmup_s": calentamiento,
        "window_s": segundos,
        "stored_per_s": redondear(almacenados_s, 1),
        "delivered_per_s": redondear((c1[3] - c0[3]) as f64 / ventana, 1),
        "total_stored": almacenados,
        "total_delivered": entregados,
        "rows_in_database": filas,
        "ack_latency": acks.resumen(),
        "ramp": apertura,
        "cpu": t0.hasta(&t1),
    });
    // PostgreSQL's own limit for the same work, same database, right after.
    let mut corridas = Vec::new();
    if let Some(bin) = a.texto("pgbench") {
        let url = a.texto("pg-url").unwrap_or_default();
        let conversaciones_n = (conectados / 2).max(1);
        for corrida in a.texto("pgbench-runs").unwrap_or_default().split(',') {
            let Some((guion, clientes)) = corrida.split_once(':') else {
                continue;
            };
            let archivo = format!("{}/{guion}.sql", a.texto("pgbench-dir").unwrap_or_default());
            let clientes: usize = clientes.parse().unwrap_or(16);
            let r = pgbench(
                c,
                &bin,
                &url,
                &archivo,
                clientes,
                a.num("pgbench-secs", segundos),
                conversaciones_n,
            )
            .await;
            if let Some(e) = r.get("error") {
                problemas.anotar(format!("pgbench {corrida}: {e}"));
            }
            corridas.push(json!({"script": guion, "clients": clientes, "result": r}));
        }
    }
    // The goal compares with pgbench's best run of the server's own statement; the ratio to the
    // best `full` run (participant check + insert, all the server asks per message) is context.
    let mejor = |guion: &str| {
        corridas
            .iter()
            .filter(|r| r["script"] == guion)
            .filter_map(|r| r["result"]["tps"].as_f64())
            .fold(0.0, f64::max)
    };
    let (insercion, completo) = (mejor("insert"), mejor("full"));
    figura["pgbench"] = json!(corridas);
    if insercion > 0.0 {
        figura["pgbench_best_insert_tps"] = json!(insercion);
        figura["ratio_to_pgbench"] = json!(redondear(almacenados_s / insercion, 3));
    }
    if completo > 0.0 {
        figura["pgbench_best_full_tps"] = json!(completo);
        figura["ratio_to_pgbench_full"] = json!(redondear(almacenados_s / completo, 3));
    }
    figura["errors"] = problemas.json();
    figura
}

/// Runs pgbench with a custom script; its tps, latency and the CPU of everybody meanwhile.
async fn pgbench(
    c: &Comun,
    bin: &str,
    url: &str,
    guion: &str,
    clientes: usize,
    segundos: u64,
    conversaciones: usize,
) -> Value {
    eprintln!("  pgbench {guion} with {clientes} clients for {segundos} s");
    let backends = medir::hijos(c.procesos.postgres);
    let t0 = Instantanea::tomar(c.procesos);
    let salida = tokio::process::Command::new(bin)
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clientes.to_string(),
            "-j",
            &clientes.min(2).to_string(),
            "-T",
            &segundos.to_string(),
            "-D",
            &format!("nconv={conversaciones}"),
            "-f",
            guion,
            url,
        ])
        .kill_on_drop(true)
        .output();
    let salida = match tokio::time::timeout(Duration::from_secs(segundos + 120), salida).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return json!({"error": format!("cannot run pgbench: {e}")}),
        Err(_) => return json!({"error": "pgbench did not finish"}),
    };
    // pgbench's backends are still exiting; until the postmaster reaps them their CPU time is
    // visible nowhere, so wait for them (bounded) before the second reading.
    let limite = Instant::now() + Duration::from_secs(20);
    while medir::hijos(c.procesos.postgres) > backends && Instant::now() < limite {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let t1 = Instantanea::tomar(c.procesos);
    let texto = String::from_utf8_lossy(&salida.stdout);
    let valor = |prefijo: &str| {
        texto
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefijo))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
    };
    if !salida.status.success() {
        return json!({"error": format!("pgbench failed: {}", String::from_utf8_lossy(&salida.stderr).lines().last().unwrap_or(""))});
    }
    json!({
        "tps": valor("tps =").map(|t| redondear(t, 1)),
        "latency_avg_ms": valor("latency average ="),
        "transactions": valor("number of transactions actually processed:"),
        "failed": valor("number of failed transactions:"),
        "cpu": t0.hasta(&t1),
    })
}

/// Scenario 3: many connected clients, a steady rate of messages; send-to-receive latency.
pub async fn latencia(c: &Comun, a: &Args) -> Value {
    let n: usize = a.num("clients", 10_000);
    let ritmo: u64 = a.num("rate", 1000);
    let segundos: u64 = a.num("secs", 60);
    let calentamiento: u64 = a.num("warmup", 5);
    let problemas = Arc::new(Problemas::default());
    let pares = match conversaciones(c, false).await {
        Ok(p) => p.into_iter().take(n / 2).collect::<Vec<_>>(),
        Err(e) => {
            return json!({"scenario": "latency_under_load", "errors": {"count": 1, "first": [e]}});
        }
    };
    let planes: Vec<Plan> = pares
        .iter()
        .flat_map(|(id, m)| {
            m.iter().take(2).map(|rut| Plan {
                rut: rut.clone(),
                sala: Some(id.clone()),
            })
        })
        .collect();
    let total = (ritmo * (calentamiento + segundos)) as usize;
    let medidos_desde = (ritmo * calentamiento) as usize;
    let relojes = Arc::new(Relojes::new(total));
    let llegadas = Arc::new(Histograma::default());
    let cuentas = Arc::new(Contadores::default());
    let recibidos = Arc::new(AtomicU64::new(0));
    let flota = Flota::lanzar(c, planes, 256, &problemas, |_, plan| {
        let (relojes, llegadas, cuentas, recibidos, problemas) = (
            relojes.clone(),
            llegadas.clone(),
            cuentas.clone(),
            recibidos.clone(),
            problemas.clone(),
        );
        let yo = plan.rut.clone();
        move |e: Entrante<'_>| {
            match e {
                Entrante::Evento {
                    nombre: "mensaje_recibido",
                    datos,
                } => {
                    cuentas.entregados.fetch_add(1, Ordering::Relaxed);
                    match serde_json::from_str::<Recibido<'_>>(datos) {
                        // The sender's own copy does not count: latency is to the other member.
                        Ok(m) if m.usuario_id == yo => {}
                        Ok(m) => match secuencia(m.contenido)
                            .and_then(|i| Some((i, relojes.desde(i)?)))
                        {
                            Some((i, d)) => {
                                recibidos.fetch_add(1, Ordering::Relaxed);
                                if i >= medidos_desde {
                                    llegadas.registrar(d);
                                }
                            }
                            None => problemas.anotar(format!("unknown message {}", m.contenido)),
                        },
                        Err(e) => problemas.anotar(format!("bad mensaje_recibido: {e}")),
                    }
                }
                Entrante::Ack { datos, .. } => {
                    if datos.contains("\"success\":false") {
                        cuentas.rechazados.fetch_add(1, Ordering::Relaxed);
                        problemas.anotar(format!("send refused: {datos}"));
                    } else {
                        cuentas.almacenados.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Entrante::Evento {
                    nombre: "error",
                    datos,
                } => problemas.anotar(format!("error event: {datos}")),
                _ => {}
            }
            None
        }
    })
    .await;
    let conversaciones_n = flota.clientes.len() / 2;
    if conversaciones_n == 0 {
        return json!({"scenario": "latency_under_load", "errors": problemas.json()});
    }
    // Open loop: message k is due at start + k / rate, whatever happened to the others.
    let retraso = Histograma::default();
    let inicio = tokio::time::Instant::now();
    let mut t0 = None;
    for k in 0..total {
        if k == medidos_desde {
            t0 = Some(Instantanea::tomar(c.procesos));
        }
        let debido = inicio + Duration::from_nanos(k as u64 * 1_000_000_000 / ritmo);
        tokio::time::sleep_until(debido).await;
        retraso.registrar(tokio::time::Instant::now() - debido);
        let conversacion = k % conversaciones_n;
        let emisor = 2 * conversacion + (k / conversaciones_n) % 2;
        let datos = datos_mensaje(&pares[conversacion].0, &format!("L{k}"));
        relojes.marcar(k);
        cuentas.enviados.fetch_add(1, Ordering::Relaxed);
        if flota.clientes[emisor]
            .tx
            .send(emitir("mensaje_enviar", &datos, Some(k as u64)))
            .is_err()
        {
            problemas.anotar(format!("client {emisor} is gone; message {k} not sent"));
        }
    }
    let enviado_en = inicio.elapsed().as_secs_f64();
    let t1 = Instantanea::tomar(c.procesos);
    let limite = Instant::now() + Duration::from_secs(15);
    while recibidos.load(Ordering::Relaxed) < total as u64 && Instant::now() < limite {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let llegaron = recibidos.load(Ordering::Relaxed);
    if llegaron < total as u64 {
        problemas.anotar(format!(
            "{} of {total} messages never reached the other member",
            total as u64 - llegaron
        ));
    }
    let [_, almacenados, _, entregados] = cuentas.leer();
    let apertura = flota.apertura.clone();
    let conectados = flota.conectados;
    flota.parar().await;
    let p99 = llegadas.resumen()["p99_ms"].as_f64().unwrap_or(f64::MAX);
    json!({
        "scenario": "latency_under_load",
        "clients": conectados,
        "conversations": conversaciones_n,
        "target_rate_per_s": ritmo,
        "achieved_rate_per_s": redondear(total as f64 / enviado_en, 1),
        "warmup_s": calentamiento,
        "window_s": segundos,
        "messages": total,
        "stored": almacenados,
        "delivered_events": entregados,
        "send_to_receive": llegadas.resumen(),
        "p99_ms": p99,
        "schedule_lag": retraso.resumen(),
        "ramp": apertura,
        "cpu": t0.map(|t| t.hasta(&t1)),
        "errors": problemas.json(),
    })
}

/// Scenario 4: one room of many members, one message every interval; time until the last
/// member has it.
pub async fn difusion(c: &Comun, a: &Args) -> Value {
    let miembros: usize = a.num("members", 1000);
    let intervalo: u64 = a.num("interval-ms", 100);
    let segundos: u64 = a.num("secs", 30);
    let calentamiento: usize = a.num("warmup-messages", 10);
    let problemas = Arc::new(Problemas::default());
    let grupo = match conversaciones(c, true).await {
        Ok(g) => g.into_iter().max_by_key(|(_, m)| m.len()),
        Err(e) => return json!({"scenario": "fanout", "errors": {"count": 1, "first": [e]}}),
    };
    let Some((sala, ruts)) = grupo else {
        return json!({"scenario": "fanout", "errors": {"count": 1, "first": ["no group conversation seeded"]}});
    };
    let planes: Vec<Plan> = ruts
        .iter()
        .take(miembros)
        .map(|rut| Plan {
            rut: rut.clone(),
            sala: Some(sala.clone()),
        })
        .collect();
    let total = calentamiento + (segundos * 1000 / intervalo.max(1)) as usize;
    let relojes = Arc::new(Relojes::new(total));
    let ultimos: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let cuentas: Arc<Vec<AtomicU32>> = Arc::new((0..total).map(|_| AtomicU32::new(0)).collect());
    let entregas = Arc::new(Histograma::default());
    let flota = Flota::lanzar(c, planes, 256, &problemas, |_, _| {
        let (relojes, ultimos, cuentas, entregas, problemas) = (
            relojes.clone(),
            ultimos.clone(),
            cuentas.clone(),
            entregas.clone(),
            problemas.clone(),
        );
        move |e: Entrante<'_>| {
            match e {
                Entrante::Evento {
                    nombre: "mensaje_recibido",
                    datos,
                } => match serde_json::from_str::<Recibido<'_>>(datos)
                    .ok()
                    .and_then(|m| secuencia(m.contenido))
                    .and_then(|i| Some((i, relojes.desde(i)?)))
                {
                    Some((i, d)) => {
                        ultimos[i].fetch_max(d.as_micros() as u64, Ordering::Relaxed);
                        cuentas[i].fetch_add(1, Ordering::Relaxed);
                        if i >= calentamiento {
                            entregas.registrar(d);
                        }
                    }
                    None => problemas.anotar(format!("unexpected mensaje_recibido {datos}")),
                },
                Entrante::Ack { datos, .. } if datos.contains("\"success\":false") => {
                    problemas.anotar(format!("send refused: {datos}"));
                }
                Entrante::Evento {
                    nombre: "error",
                    datos,
                } => problemas.anotar(format!("error event: {datos}")),
                _ => {}
            }
            None
        }
    })
    .await;
    let conectados = flota.conectados as u32;
    let inicio = tokio::time::Instant::now();
    let mut t0 = None;
    for k in 0..total {
        if k == calentamiento {
            t0 = Some(Instantanea::tomar(c.procesos));
        }
        tokio::time::sleep_until(inicio + Duration::from_millis(k as u64 * intervalo)).await;
        relojes.marcar(k);
        let datos = datos_mensaje(&sala, &format!("F{k}"));
        if flota.clientes[0]
            .tx
            .send(emitir("mensaje_enviar", &datos, Some(k as u64)))
            .is_err()
        {
            problemas.anotar("the sender is gone");
            break;
        }
    }
    let t1 = Instantanea::tomar(c.procesos);
    let limite = Instant::now() + Duration::from_secs(15);
    while cuentas[total - 1].load(Ordering::Relaxed) < conectados && Instant::now() < limite {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ultimo_miembro = Histograma::default();
    let mut incompletos = 0;
    for k in calentamiento..total {
        if cuentas[k].load(Ordering::Relaxed) >= conectados {
            ultimo_miembro.registrar(Duration::from_micros(ultimos[k].load(Ordering::Relaxed)));
        } else {
            incompletos += 1;
        }
    }
    if incompletos > 0 {
        problemas.anotar(format!("{incompletos} messages did not reach every member"));
    }
    let apertura = flota.apertura.clone();
    flota.parar().await;
    json!({
        "scenario": "fanout",
        "members": conectados,
        "interval_ms": intervalo,
        "messages_measured": total - calentamiento,
        "deliveries_per_s": redondear(f64::from(conectados) * 1000.0 / intervalo as f64, 0),
        "incomplete": incompletos,
        "last_member": ultimo_miembro.resumen(),
        "every_delivery": entregas.resumen(),
        "ramp": apertura,
        "cpu": t0.map(|t| t.hasta(&t1)),
        "errors": problemas.json(),
    })
}

/// One REST endpoint measured: the request, who asks, and how many items it must return.
struct Ruta {
    nombre: &'static str,
    camino: String,
    rut: String,
    clave: &'static str,
}

/// Statements PostgreSQL executed for this database since the last reset (ours excluded),
/// with their text.
async fn sentencias(c: &Comun) -> Result<(i64, Vec<Value>), String> {
    let filas =
        c.db.query(
            "SELECT s.calls, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 70) \
             FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat_statements%' \
             ORDER BY s.calls DESC",
            &[],
        )
        .await
        .map_err(|e| format!("pg_stat_statements: {e}"))?;
    let total = filas.iter().map(|f| f.get::<_, i64>(0)).sum();
    let lista = filas
        .iter()
        .map(|f| json!({"calls": f.get::<_, i64>(0), "query": f.get::<_, String>(1)}))
        .collect();
    Ok((total, lista))
}

/// Items in the answer's list (`conversaciones` or `mensajes`).
fn elementos(cuerpo: &[u8], clave: &str) -> Option<usize> {
    let v: Value = serde_json::from_slice(cuerpo).ok()?;
    Some(v.get(clave)?.as_array()?.len())
}

/// `k` sequential requests; the SQL statements PostgreSQL counted per request.
async fn medir_sentencias(c: &Comun, ruta: &Ruta, k: usize, problemas: &Problemas) -> Value {
    let peticion = http::peticion_get(&c.destino.host, &ruta.camino, &c.cookie(&ruta.rut));
    let mut conexion = match http::Conexion::abrir(c.destino.addr).await {
        Ok(x) => x,
        Err(e) => {
            problemas.anotar(e);
            return Value::Null;
        }
    };
    // Warm the pool and the statement cache first: the count is of steady-state requests.
    let primera = conexion.get(&peticion).await;
    let (items, bytes) = match &primera {
        Ok(r) if r.status == 200 => (elementos(&r.cuerpo, ruta.clave), r.cuerpo.len()),
        Ok(r) => {
            problemas.anotar(format!("{}: status {}", ruta.nombre, r.status));
            (None, 0)
        }
        Err(e) => {
            problemas.anotar(format!("{}: {e}", ruta.nombre));
            (None, 0)
        }
    };
    if let Err(e) = c.db.execute("SELECT pg_stat_statements_reset()", &[]).await {
        problemas.anotar(format!("pg_stat_statements_reset: {e}"));
        return Value::Null;
    }
    for _ in 0..k {
        match conexion.get(&peticion).await {
            Ok(r) if r.status == 200 => {}
            Ok(r) => problemas.anotar(format!("{}: status {}", ruta.nombre, r.status)),
            Err(e) => problemas.anotar(format!("{}: {e}", ruta.nombre)),
        }
    }
    match sentencias(c).await {
        Ok((total, lista)) => json!({
            "endpoint": ruta.nombre,
            "path": ruta.camino,
            "items": items,
            "response_bytes": bytes,
            "requests": k,
            "statements_per_request": redondear(total as f64 / k as f64, 2),
            "statements": lista,
        }),
        Err(e) => {
            problemas.anotar(e);
            Value::Null
        }
    }
}

/// `conexiones` keep-alive connections, each sending the next request when the answer
/// arrives; throughput and latency over the window after the warm-up.
async fn carga_rest(
    c: &Comun,
    ruta: &Ruta,
    conexiones: usize,
    calentamiento: u64,
    segundos: u64,
    problemas: &Arc<Problemas>,
) -> Value {
    eprintln!(
        "  {}: {conexiones} connections for {segundos} s",
        ruta.nombre
    );
    let peticion = Arc::new(http::peticion_get(
        &c.destino.host,
        &ruta.camino,
        &c.cookie(&ruta.rut),
    ));
    let latencias = Arc::new(Histograma::default());
    let hechas = Arc::new(AtomicU64::new(0));
    let inicio = Instant::now();
    let medir_desde = inicio + Duration::from_secs(calentamiento);
    let fin = medir_desde + Duration::from_secs(segundos);
    let mut tareas = Vec::new();
    for _ in 0..conexiones {
        let (peticion, latencias, hechas, problemas, addr, nombre) = (
            peticion.clone(),
            latencias.clone(),
            hechas.clone(),
            problemas.clone(),
            c.destino.addr,
            ruta.nombre,
        );
        tareas.push(tokio::spawn(async move {
            let mut conexion = match http::Conexion::abrir(addr).await {
                Ok(x) => x,
                Err(e) => return problemas.anotar(e),
            };
            while Instant::now() < fin {
                let t = Instant::now();
                match conexion.get(&peticion).await {
                    Ok(r) if r.status == 200 => {
                        if t >= medir_desde && Instant::now() <= fin {
                            latencias.registrar(t.elapsed());
                            hechas.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(r) => problemas.anotar(format!("{nombre}: status {}", r.status)),
                    Err(e) => {
                        problemas.anotar(format!("{nombre}: {e}"));
                        return;
                    }
                }
            }
        }));
    }
    tokio::time::sleep_until(medir_desde.into()).await;
    let t0 = Instantanea::tomar(c.procesos);
    tokio::time::sleep_until(fin.into()).await;
    let t1 = Instantanea::tomar(c.procesos);
    for t in tareas {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    let resumen = latencias.resumen();
    json!({
        "endpoint": ruta.nombre,
        "path": ruta.camino,
        "connections": conexiones,
        "window_s": segundos,
        "requests_per_s": redondear(hechas.load(Ordering::Relaxed) as f64 / segundos as f64, 1),
        "latency": resumen,
        "p99_ms": resumen["p99_ms"],
        "cpu": t0.hasta(&t1),
    })
}

/// Scenario 5: the conversation list and the history, large and small: statements per request
/// from `pg_stat_statements`, then requests/s and latency at N concurrent connections.
pub async fn rest(c: &Comun, a: &Args) -> Value {
    let conexiones: usize = a.num("connections", 32);
    let segundos: u64 = a.num("secs", 20);
    let calentamiento: u64 = a.num("warmup", 2);
    let k: usize = a.num("stmt-requests", 20);
    let problemas = Arc::new(Problemas::default());
    let arg = |n: &str| a.texto(n).unwrap_or_default();
    let rutas = [
        Ruta {
            nombre: "conversaciones_large",
            camino: "/api/chat/conversaciones".into(),
            rut: arg("user-large"),
            clave: "conversaciones",
        },
        Ruta {
            nombre: "conversaciones_small",
            camino: "/api/chat/conversaciones".into(),
            rut: arg("user-small"),
            clave: "conversaciones",
        },
        Ruta {
            nombre: "mensajes_large",
            camino: format!("/api/chat/mensajes/{}", arg("conv-large")),
            rut: arg("conv-user"),
            clave: "mensajes",
        },
        Ruta {
            nombre: "mensajes_small",
            camino: format!("/api/chat/mensajes/{}", arg("conv-small")),
            rut: arg("conv-user"),
            clave: "mensajes",
        },
    ];
    let mut conteos = Vec::new();
    for ruta in &rutas {
        conteos.push(medir_sentencias(c, ruta, k, &problemas).await);
    }
    // Constant statements: the large and the small variant of each route must agree.
    for par in conteos.chunks(2) {
        let (g, p) = (
            &par[0]["statements_per_request"],
            &par[1]["statements_per_request"],
        );
        if g != p {
            problemas.anotar(format!(
                "statements per request differ with size: {} {g} vs {} {p}",
                par[0]["endpoint"], par[1]["endpoint"]
            ));
        }
    }
    // One connection first (the unloaded latency), then the concurrent load of the goal; the
    // small conversation list alone too (its own latency goal).
    let mut cargas = Vec::new();
    let solo = (segundos / 4).max(1);
    for ruta in &rutas {
        if ruta.nombre.ends_with("_large") {
            cargas.push(carga_rest(c, ruta, 1, calentamiento.min(1), solo, &problemas).await);
            cargas.push(carga_rest(c, ruta, conexiones, calentamiento, segundos, &problemas).await);
        } else if ruta.nombre == "conversaciones_small" {
            cargas.push(carga_rest(c, ruta, 1, calentamiento.min(1), solo, &problemas).await);
        }
    }
    json!({
        "scenario": "rest",
        "statements": conteos,
        "load": cargas,
        "errors": problemas.json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_payloads_and_sequence_numbers() {
        assert_eq!(
            datos_mensaje("7", "L12"),
            r#"{"conversacion_id":"7","contenido":"L12"}"#
        );
        assert_eq!(secuencia("L12"), Some(12));
        assert_eq!(secuencia("F0"), Some(0));
        assert_eq!(secuencia("x"), None);
    }

    #[test]
    fn counts_list_items() {
        assert_eq!(elementos(br#"{"mensajes":[1,2,3]}"#, "mensajes"), Some(3));
        assert_eq!(elementos(b"{}", "mensajes"), None);
    }
}
