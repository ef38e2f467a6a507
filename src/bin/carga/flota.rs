//! A fleet of Socket.IO clients: opened in parallel (bounded), each driven by its own task
//! with a scenario-specific handler, stopped together. Also the shared bits every scenario
//! uses: the run's context (server address, cookie codec, database, processes) and the list
//! of problems that make a run fail.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use weigence_chat::session::{Session, SessionCodec};

use crate::medir::{Histograma, Procesos, redondear};
use crate::sio::{self, Destino, Entrante, Fin};

/// Everything a scenario needs to know about the run.
pub struct Comun {
    /// The server.
    pub destino: Destino,
    /// Signs session cookies with the server's secret.
    pub codec: SessionCodec,
    /// Server and PostgreSQL processes, for CPU and memory.
    pub procesos: Procesos,
    /// The scenario's database (setup queries, checks, statistics).
    pub db: tokio_postgres::Client,
    /// Bound on one client's handshake (TCP, WebSocket, Engine.IO, Socket.IO, join).
    pub plazo_apertura: Duration,
    /// Stop opening clients once this many have failed (`None`: open them all); for servers
    /// measured until they fail, such as the Python peer.
    pub fallos_max: Option<usize>,
}

impl Comun {
    /// A Flask session cookie value for `rut`, signed now.
    pub fn cookie(&self, rut: &str) -> String {
        let mut s = Session::default();
        s.set("usuario_id", json!(rut));
        s.set("usuario_logueado", json!(true));
        let ahora = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.codec.encode(&s, ahora)
    }
}

/// What went wrong during a run: a count and the first few descriptions.
#[derive(Default)]
pub struct Problemas {
    total: AtomicU64,
    primeros: Mutex<Vec<String>>,
}

impl Problemas {
    /// Records a problem.
    pub fn anotar(&self, que: impl Into<String>) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let mut lista = self.primeros.lock().unwrap_or_else(|e| e.into_inner());
        if lista.len() < 10 {
            lista.push(que.into());
        }
    }

    /// Number of problems.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// `{"count": n, "first": [...]}`.
    pub fn json(&self) -> Value {
        let lista = self.primeros.lock().unwrap_or_else(|e| e.into_inner());
        json!({"count": self.total(), "first": *lista})
    }
}

/// A client to start: who it is and which conversation room it joins.
pub struct Plan {
    /// The user's rut (the session's `usuario_id`).
    pub rut: String,
    /// Conversation to join after connecting.
    pub sala: Option<String>,
}

/// A started client: the channel its task sends from.
pub struct Cliente {
    /// Frames to send on this client's socket.
    pub tx: mpsc::UnboundedSender<String>,
}

/// The connected fleet.
pub struct Flota {
    /// One entry per plan, in order (a client that failed to connect has a dead channel).
    pub clientes: Vec<Cliente>,
    tareas: Vec<JoinHandle<()>>,
    parar: watch::Sender<bool>,
    /// Clients connected at the end of the ramp.
    pub conectados: usize,
    /// Figures of the ramp: duration, rate, handshake latency, failures.
    pub apertura: Value,
    perdidos: Arc<AtomicU64>,
}

impl Flota {
    /// Opens one client per plan, at most `paralelo` handshakes at a time, each driven by the
    /// handler `fabrica` makes for it; returns once every client connected or failed.
    pub async fn lanzar<F, H>(
        c: &Comun,
        planes: Vec<Plan>,
        paralelo: usize,
        problemas: &Arc<Problemas>,
        mut fabrica: F,
    ) -> Flota
    where
        F: FnMut(usize, &Plan) -> H,
        H: FnMut(Entrante<'_>) -> Option<String> + Send + 'static,
    {
        let n = planes.len();
        let (parar, parar_rx) = watch::channel(false);
        let permisos = Arc::new(Semaphore::new(paralelo.max(1)));
        // Err(None): not attempted, because `fallos_max` clients had already failed.
        let (listo_tx, mut listo_rx) =
            mpsc::unbounded_channel::<Result<Duration, Option<String>>>();
        let perdidos = Arc::new(AtomicU64::new(0));
        let fallos = Arc::new(AtomicU64::new(0));
        let (plazo, fallos_max) = (c.plazo_apertura, c.fallos_max.map(|f| f as u64));
        let destino = Arc::new(c.destino.clone());
        let inicio = Instant::now();
        let mut tareas = Vec::with_capacity(n);
        let mut clientes = Vec::with_capacity(n);
        for (i, plan) in planes.into_iter().enumerate() {
            let (tx, rx) = mpsc::unbounded_channel();
            let manejar = fabrica(i, &plan);
            let cookie = c.cookie(&plan.rut);
            let origen = destino.origen(i);
            let (destino, permisos, listo, parar, perdidos, problemas, fallos) = (
                destino.clone(),
                permisos.clone(),
                listo_tx.clone(),
                parar_rx.clone(),
                perdidos.clone(),
                problemas.clone(),
                fallos.clone(),
            );
            tareas.push(tokio::spawn(async move {
                let abierto = {
                    let _permiso = permisos.acquire().await;
                    if fallos_max.is_some_and(|m| fallos.load(Ordering::Relaxed) >= m) {
                        let _ = listo.send(Err(None));
                        return;
                    }
                    let t0 = Instant::now();
                    let apertura = sio::abrir(&destino, origen, &cookie, plan.sala.as_deref());
                    match tokio::time::timeout(plazo, apertura).await {
                        Ok(Ok(ws)) => Ok((ws, t0.elapsed())),
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err("handshake timed out".into()),
                    }
                };
                match abierto {
                    Ok((ws, duracion)) => {
                        let _ = listo.send(Ok(duracion));
                        if let Fin::Perdido(e) = sio::conducir(ws, rx, parar, manejar).await {
                            perdidos.fetch_add(1, Ordering::Relaxed);
                            problemas.anotar(format!("connection lost: {e}"));
                        }
                    }
                    Err(e) => {
                        fallos.fetch_add(1, Ordering::Relaxed);
                        let _ = listo.send(Err(Some(e)));
                    }
                }
            }));
            clientes.push(Cliente { tx });
        }
        drop(listo_tx);
        let handshakes = Histograma::default();
        let (mut conectados, mut fallidos, mut omitidos) = (0usize, 0usize, 0usize);
        // Every handshake is bounded, so this ends; the outer bound is a safety net.
        let limite = tokio::time::Instant::now() + Duration::from_secs(900);
        while conectados + fallidos + omitidos < n {
            match tokio::time::timeout_at(limite, listo_rx.recv()).await {
                Ok(Some(Ok(d))) => {
                    conectados += 1;
                    handshakes.registrar(d);
                }
                Ok(Some(Err(Some(e)))) => {
                    fallidos += 1;
                    problemas.anotar(format!("connect failed: {e}"));
                }
                Ok(Some(Err(None))) => omitidos += 1,
                Ok(None) | Err(_) => break,
            }
            if (conectados + fallidos + omitidos) % 5000 == 0 {
                eprintln!("  {conectados} connected, {fallidos} failed");
            }
        }
        let segundos = inicio.elapsed().as_secs_f64();
        let apertura = json!({
            "clients": n,
            "connected": conectados,
            "failed": fallidos,
            "not_attempted": omitidos,
            "ramp_s": redondear(segundos, 2),
            "connects_per_s": redondear(conectados as f64 / segundos.max(1e-9), 0),
            "parallel_handshakes": paralelo,
            "handshake": handshakes.resumen(),
        });
        Flota {
            clientes,
            tareas,
            parar,
            conectados,
            apertura,
            perdidos,
        }
    }

    /// Connections the server closed (or that failed) so far.
    pub fn perdidos(&self) -> u64 {
        self.perdidos.load(Ordering::Relaxed)
    }

    /// Stops every client (closing its socket) and waits for the tasks; returns how many
    /// connections were lost before the stop.
    pub async fn parar(self) -> u64 {
        let _ = self.parar.send(true);
        drop(self.clientes);
        let limite = tokio::time::Instant::now() + Duration::from_secs(60);
        for t in self.tareas {
            let _ = tokio::time::timeout_at(limite, t).await;
        }
        self.perdidos.load(Ordering::Relaxed)
    }
}

/// Send times of numbered messages (ns since `base`, 0 = not sent), so the receiving task can
/// compute the latency of any message it gets.
pub struct Relojes {
    base: Instant,
    enviados: Vec<AtomicU64>,
}

impl Relojes {
    /// Room for `n` messages.
    pub fn new(n: usize) -> Relojes {
        Relojes {
            base: Instant::now(),
            enviados: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Marks message `i` as sent now.
    pub fn marcar(&self, i: usize) {
        let ns = self.base.elapsed().as_nanos() as u64 + 1;
        self.enviados[i].store(ns, Ordering::Relaxed);
    }

    /// Time since message `i` was sent (`None` if unknown or never sent).
    pub fn desde(&self, i: usize) -> Option<Duration> {
        let enviado = self.enviados.get(i)?.load(Ordering::Relaxed);
        (enviado > 0).then(|| {
            Duration::from_nanos(
                (self.base.elapsed().as_nanos() as u64 + 1).saturating_sub(enviado),
            )
        })
    }
}
