//! Per-user token buckets: sustained rate plus a burst, so a user's open pages (which poll
//! every few seconds) never hit the limit while a runaway client does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token buckets keyed by user.
pub struct Limitador {
    por_segundo: f64,
    rafaga: f64,
    cubetas: Mutex<HashMap<String, Cubeta>>,
}

struct Cubeta {
    fichas: f64,
    ultima: Instant,
}

/// Buckets untouched for this long are dropped, so the map does not grow without bound.
const INACTIVIDAD: Duration = Duration::from_secs(600);

impl Limitador {
    /// Allows `por_minuto` requests per minute on average and `rafaga` at once.
    pub fn new(por_minuto: u32, rafaga: u32) -> Self {
        Limitador {
            por_segundo: f64::from(por_minuto) / 60.0,
            rafaga: f64::from(rafaga.max(1)),
            cubetas: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `clave` at `ahora`; when none is left, says how long to wait.
    pub fn permitir(&self, clave: &str, ahora: Instant) -> Result<(), Duration> {
        let mut cubetas = self.cubetas.lock().unwrap_or_else(|e| e.into_inner());
        if cubetas.len() > 10_000 {
            cubetas.retain(|_, c| ahora.duration_since(c.ultima) < INACTIVIDAD);
        }
        let cubeta = cubetas.entry(clave.to_owned()).or_insert(Cubeta {
            fichas: self.rafaga,
            ultima: ahora,
        });
        let transcurrido = ahora.saturating_duration_since(cubeta.ultima).as_secs_f64();
        cubeta.fichas = (cubeta.fichas + transcurrido * self.por_segundo).min(self.rafaga);
        cubeta.ultima = ahora;
        if cubeta.fichas >= 1.0 {
            cubeta.fichas -= 1.0;
            Ok(())
        } else if self.por_segundo <= 0.0 {
            Err(Duration::from_secs(60))
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - cubeta.fichas) / self.por_segundo,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refills_at_the_sustained_rate() {
        let limite = Limitador::new(60, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limite.permitir("a", t0).is_ok());
        }
        let espera = limite.permitir("a", t0).unwrap_err();
        assert!(espera > Duration::from_millis(900) && espera <= Duration::from_secs(1));
        assert!(limite.permitir("b", t0).is_ok(), "buckets are per user");
        assert!(limite.permitir("a", t0 + Duration::from_secs(1)).is_ok());
        assert!(limite.permitir("a", t0 + Duration::from_secs(1)).is_err());
    }
}
