//! Finding messages and muting conversations: what a user may search (only conversations they
//! are in now, never deleted messages), query and paging limits, and the per-conversation mute
//! that notifications and badges respect.

use serde_json::Value;

use super::{Actor, ChatService, ErrorChat, Resultado};
use crate::dominio::{Coincidencia, Id};
use crate::store::Busqueda;

/// Results per page when the client does not say.
pub const RESULTADOS_POR_PAGINA: i64 = 20;
/// Most results per page.
pub const MAX_RESULTADOS: i64 = 50;
/// Longest accepted query, in characters.
pub const MAX_CONSULTA: usize = 200;
/// Deepest page reachable (results skipped), so a search never scans without end.
pub const MAX_DESDE: i64 = 1000;

/// One page of search results.
#[derive(Clone, Debug)]
pub struct PaginaBusqueda {
    /// The results, best first.
    pub resultados: Vec<Coincidencia>,
    /// Results skipped before this page.
    pub desde: i64,
    /// Whether another page follows.
    pub hay_mas: bool,
}

impl ChatService {
    /// Searches the messages the actor may read now (in `conversacion` only, when given):
    /// Spanish stemming, accents folded, best first, paged. Any text is a safe query.
    pub async fn buscar(
        &self,
        actor: &Actor,
        consulta: Option<&str>,
        conversacion: Option<&str>,
        desde: Option<&str>,
        limite: Option<&str>,
    ) -> Resultado<PaginaBusqueda> {
        self.limitar(actor)?;
        let consulta = consulta.map(str::trim).unwrap_or_default();
        if consulta.is_empty() {
            return Err(ErrorChat::Invalido("Falta el texto a buscar (q)"));
        }
        if consulta.chars().count() > MAX_CONSULTA || consulta.contains('\0') {
            return Err(ErrorChat::Invalido("Búsqueda demasiado larga o inválida"));
        }
        let numero = |texto: Option<&str>, defecto: i64, min: i64, max: i64, error| match texto {
            None => Ok(defecto),
            Some(t) => t
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or(ErrorChat::Invalido(error)),
        };
        let desde = numero(desde, 0, 0, MAX_DESDE, "desde inválido")?;
        let limite = numero(
            limite,
            RESULTADOS_POR_PAGINA,
            1,
            MAX_RESULTADOS,
            "limite inválido",
        )?;
        let conversacion = match conversacion.filter(|c| !c.trim().is_empty()) {
            None => None,
            Some(c) => Some(
                self.autorizar(actor, Some(&Value::String(c.to_owned())))
                    .await?,
            ),
        };
        let mut resultados = self
            .store
            .buscar(Busqueda {
                rut: &actor.rut,
                consulta,
                conversacion: conversacion.as_ref(),
                desde,
                limite: limite + 1,
            })
            .await?;
        let hay_mas = resultados.len() as i64 > limite;
        resultados.truncate(limite as usize);
        Ok(PaginaBusqueda {
            resultados,
            desde,
            hay_mas,
        })
    }

    /// Mutes or unmutes a conversation for the actor (a participant); returns every
    /// conversation the actor has muted.
    pub async fn silenciar(
        &self,
        actor: &Actor,
        conversacion: &str,
        silenciado: bool,
    ) -> Resultado<Vec<Id>> {
        self.limitar(actor)?;
        let id = self
            .autorizar(actor, Some(&Value::String(conversacion.to_owned())))
            .await?;
        Ok(self
            .store
            .silencios(&actor.rut, Some((&id, silenciado)))
            .await?)
    }

    /// The conversations the actor has muted.
    pub async fn silenciadas(&self, actor: &Actor) -> Resultado<Vec<Id>> {
        self.limitar(actor)?;
        Ok(self.store.silencios(&actor.rut, None).await?)
    }
}
