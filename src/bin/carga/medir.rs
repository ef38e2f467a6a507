//! Measurements taken from outside the measured programs: CPU time and resident memory from
//! `/proc`, and a lock-free latency histogram shared by every client task.

use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, fixed at 100 by the kernel ABI).
const USER_HZ: f64 = 100.0;

/// Fields of `/proc/<pid>/stat` after the command name: (ppid, utime + stime, cutime + cstime).
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let texto = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    let resto = &texto[texto.rfind(')')? + 2..];
    let campos: Vec<&str> = resto.split_whitespace().collect();
    // resto[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
    let n = |i: usize| campos.get(i - 3)?.parse::<u64>().ok();
    Some((n(4)? as u32, n(14)? + n(15)?, n(16)? + n(17)?))
}

/// CPU ticks a process used itself (children not included); 0 when it is gone.
pub fn ticks_propios(pid: u32) -> u64 {
    stat(pid).map(|(_, propios, _)| propios).unwrap_or(0)
}

/// CPU ticks of the children this process has waited for (how pgbench's CPU is measured).
pub fn ticks_hijos_esperados(pid: u32) -> u64 {
    stat(pid).map(|(_, _, hijos)| hijos).unwrap_or(0)
}

/// CPU ticks of a whole PostgreSQL server: the postmaster, its live children (backends,
/// WAL writer, checkpointer...) and the children that already exited (the postmaster's
/// `cutime`/`cstime`), so backends that come and go are still counted.
pub fn ticks_postgres(postmaster: u32) -> u64 {
    let Some((_, propios, hijos)) = stat(postmaster) else {
        return 0;
    };
    let mut total = propios + hijos;
    if let Ok(entradas) = fs::read_dir("/proc") {
        for e in entradas.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((_, t, _)) = stat(pid).filter(|(ppid, _, _)| *ppid == postmaster) {
                total += t;
            }
        }
    }
    total
}

/// Number of live children of a process (a PostgreSQL postmaster's backends and workers).
pub fn hijos(pid: u32) -> usize {
    fs::read_dir("/proc")
        .map(|entradas| {
            entradas
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|p| stat(*p).is_some_and(|(ppid, _, _)| ppid == pid))
                .count()
        })
        .unwrap_or(0)
}

/// A line of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`).
pub fn status_kb(pid: u32, campo: &str) -> Option<u64> {
    let texto = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    texto
        .lines()
        .find_map(|l| l.strip_prefix(campo)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Busy, total and stolen ticks of the whole machine (`/proc/stat`, first line); stolen time
/// (the hypervisor running someone else) counts as busy.
fn ticks_maquina() -> (u64, u64, u64) {
    let texto = fs::read_to_string("/proc/stat").unwrap_or_default();
    let valores: Vec<u64> = texto
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = valores.iter().take(8).sum();
    // idle and iowait are not busy.
    let ocioso = valores.get(3).copied().unwrap_or(0) + valores.get(4).copied().unwrap_or(0);
    let robado = valores.get(7).copied().unwrap_or(0);
    (total.saturating_sub(ocioso), total, robado)
}

/// Number of CPUs (`cpuN` lines of `/proc/stat`).
fn nucleos() -> usize {
    fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count()
}

/// Which processes a CPU measurement covers.
#[derive(Clone, Copy, Debug)]
pub struct Procesos {
    /// The server under test.
    pub servidor: u32,
    /// The PostgreSQL postmaster (0 when not measured).
    pub postgres: u32,
}

/// CPU counters at one instant.
#[derive(Clone, Copy, Debug)]
pub struct Instantanea {
    cuando: Instant,
    servidor: u64,
    generador: u64,
    hijos: u64,
    postgres: u64,
    maquina: (u64, u64, u64),
}

impl Instantanea {
    /// Reads every counter now.
    pub fn tomar(p: Procesos) -> Instantanea {
        let yo = std::process::id();
        Instantanea {
            cuando: Instant::now(),
            servidor: ticks_propios(p.servidor),
            generador: ticks_propios(yo),
            hijos: ticks_hijos_esperados(yo),
            postgres: if p.postgres == 0 {
                0
            } else {
                ticks_postgres(p.postgres)
            },
            maquina: ticks_maquina(),
        }
    }

    /// CPU use between `self` and a later snapshot, in % of one core (200 % = both cores of a
    /// two-core machine); `machine_busy_pct` is the share of all cores (100 % = saturated).
    pub fn hasta(&self, despues: &Instantanea) -> Value {
        let segundos = despues.cuando.duration_since(self.cuando).as_secs_f64();
        let pct =
            |a: u64, b: u64| redondear(b.saturating_sub(a) as f64 / USER_HZ / segundos * 100.0, 1);
        let (ocupado, total) = (
            despues.maquina.0.saturating_sub(self.maquina.0),
            despues.maquina.1.saturating_sub(self.maquina.1),
        );
        let servidor = pct(self.servidor, despues.servidor);
        let generador = pct(self.generador, despues.generador);
        let pgbench = pct(self.hijos, despues.hijos);
        let postgres = pct(self.postgres, despues.postgres);
        let maquina = pct(0, ocupado);
        let robado = pct(self.maquina.2, despues.maquina.2);
        json!({
            "wall_s": redondear(segundos, 2),
            "cores": nucleos(),
            "server_pct": servidor,
            "generator_pct": generador,
            "pgbench_pct": pgbench,
            "postgres_pct": postgres,
            // Everything else that ran meanwhile (kernel threads, other users of the machine).
            "other_pct": redondear((maquina - robado - servidor - generador - pgbench - postgres).max(0.0), 1),
            "steal_pct": robado,
            "machine_busy_pct": redondear(ocupado as f64 * 100.0 / total.max(1) as f64, 1),
        })
    }
}

/// Rounds to `decimales` decimal places (for readable JSON).
pub fn redondear(x: f64, decimales: i32) -> f64 {
    let f = 10f64.powi(decimales);
    (x * f).round() / f
}

/// Buckets below this value hold one microsecond each.
const LINEAL: u64 = 128;
/// Sub-buckets per power of two above `LINEAL` (1.6 % precision).
const SUB: u64 = 64;
/// Enough buckets for values up to 2^40 µs.
const CUBETAS: usize = (LINEAL + 35 * SUB) as usize;

/// A latency histogram in microseconds with 1.6 % precision, updated lock-free from any task.
pub struct Histograma {
    cubetas: Vec<AtomicU64>,
    n: AtomicU64,
    suma: AtomicU64,
    max: AtomicU64,
}

impl Default for Histograma {
    fn default() -> Self {
        Histograma {
            cubetas: (0..CUBETAS).map(|_| AtomicU64::new(0)).collect(),
            n: AtomicU64::new(0),
            suma: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }
}

impl Histograma {
    fn indice(us: u64) -> usize {
        if us < LINEAL {
            return us as usize;
        }
        // Keep the top 7 significant bits: `us >> corrimiento` is in [64, 128).
        let corrimiento = 63 - u64::from(us.leading_zeros()) - 6;
        let i = LINEAL + (corrimiento - 1) * SUB + ((us >> corrimiento) - SUB);
        (i as usize).min(CUBETAS - 1)
    }

    /// The lowest value of bucket `i`.
    fn valor(i: usize) -> u64 {
        let i = i as u64;
        if i < LINEAL {
            return i;
        }
        let corrimiento = (i - LINEAL) / SUB + 1;
        ((i - LINEAL) % SUB + SUB) << corrimiento
    }

    /// Records one duration.
    pub fn registrar(&self, d: Duration) {
        let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
        self.cubetas[Self::indice(us)].fetch_add(1, Ordering::Relaxed);
        self.n.fetch_add(1, Ordering::Relaxed);
        self.suma.fetch_add(us, Ordering::Relaxed);
        self.max.fetch_max(us, Ordering::Relaxed);
    }

    /// Number of recorded values.
    pub fn cuenta(&self) -> u64 {
        self.n.load(Ordering::Relaxed)
    }

    /// The value below which `p` % of the recorded values fall, in µs.
    fn percentil(&self, p: f64) -> u64 {
        let n = self.cuenta();
        if n == 0 {
            return 0;
        }
        let objetivo = ((p / 100.0) * n as f64).ceil().max(1.0) as u64;
        let mut acumulado = 0;
        for (i, c) in self.cubetas.iter().enumerate() {
            acumulado += c.load(Ordering::Relaxed);
            if acumulado >= objetivo {
                // Never report more than the exact maximum.
                return Self::valor(i).min(self.max.load(Ordering::Relaxed));
            }
        }
        self.max.load(Ordering::Relaxed)
    }

    /// `{n, p50_ms, p90_ms, p99_ms, max_ms, mean_ms}`.
    pub fn resumen(&self) -> Value {
        let ms = |us: u64| redondear(us as f64 / 1000.0, 3);
        let n = self.cuenta();
        json!({
            "n": n,
            "p50_ms": ms(self.percentil(50.0)),
            "p90_ms": ms(self.percentil(90.0)),
            "p99_ms": ms(self.percentil(99.0)),
            "max_ms": ms(self.max.load(Ordering::Relaxed)),
            "mean_ms": ms(self.suma.load(Ordering::Relaxed) / n.max(1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_within_their_precision() {
        for us in [
            0u64,
            1,
            127,
            128,
            129,
            1000,
            4095,
            65_536,
            1_000_000,
            123_456_789,
        ] {
            let v = Histograma::valor(Histograma::indice(us));
            assert!(v <= us, "{us} -> {v}");
            assert!((us - v) as f64 <= us as f64 / 60.0 + 1.0, "{us} -> {v}");
        }
    }

    #[test]
    fn percentiles_of_a_uniform_series() {
        let h = Histograma::default();
        for ms in 1..=100 {
            h.registrar(Duration::from_millis(ms));
        }
        let r = h.resumen();
        assert_eq!(r["n"], 100);
        let p99 = r["p99_ms"].as_f64().unwrap();
        assert!((97.0..=99.0).contains(&p99), "{p99}");
        assert_eq!(r["max_ms"], 100.0);
    }
}
