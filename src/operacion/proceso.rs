//! The process figures Prometheus' clients conventionally export (`process_*`), read from
//! `/proc/self` on Linux; absent elsewhere.

use super::metricas::escribir_indicador;

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux architecture
/// that matters here).
const TICKS_POR_SEGUNDO: f64 = 100.0;

/// Appends memory, CPU, start time and file descriptor gauges.
pub fn escribir(salida: &mut String) {
    let estado = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |clave: &str| {
        estado
            .lines()
            .find_map(|l| l.strip_prefix(clave))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|v| v * 1024.0)
    };
    if let Some(rss) = kb("VmRSS:") {
        escribir_indicador(
            salida,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            &[(vec![], rss)],
        );
    }
    if let Some(vsz) = kb("VmSize:") {
        escribir_indicador(
            salida,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            &[(vec![], vsz)],
        );
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        escribir_indicador(
            salida,
            "process_open_fds",
            "Number of open file descriptors.",
            &[(vec![], fds.count() as f64)],
        );
    }
    let limite = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<f64>().ok())
        });
    if let Some(max) = limite {
        escribir_indicador(
            salida,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            &[(vec![], max)],
        );
    }
    // Fields after the command name (which may hold spaces) in /proc/self/stat: utime and
    // stime are the 12th and 13th, starttime the 20th (ticks after boot).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let campos: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| {
        campos
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v / TICKS_POR_SEGUNDO)
    };
    if let (Some(usuario), Some(sistema)) = (tick(11), tick(12)) {
        let _ = std::fmt::Write::write_fmt(
            salida,
            format_args!(
                "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n",
                usuario + sistema
            ),
        );
    }
    let arranque = std::fs::read_to_string("/proc/stat").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    if let (Some(btime), Some(inicio)) = (arranque, tick(19)) {
        escribir_indicador(
            salida,
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds.",
            &[(vec![], btime + inicio)],
        );
    }
}
