//! Wire shapes of our own additions (not in either Weigence generation): message search,
//! attachments and per-conversation mute. v1-style: Spanish keys, `success` on every answer,
//! ids with their column's JSON type.

use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;

use super::Nulable;
use super::v1::MensajeJson;
use crate::dominio::{Adjunto, Coincidencia, FIN_RESALTADO, INICIO_RESALTADO, Id, Mensaje};
use crate::service::PaginaBusqueda;

/// A piece of a search result's excerpt; the matched words have `resaltado: true` (render them
/// as text, highlighted: the excerpt is never HTML).
#[derive(Object, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TrozoFragmento {
    /// Whether it is a matched word.
    pub resaltado: bool,
    /// The text of this piece.
    pub texto: String,
}

/// Splits an excerpt marked by the store into pieces.
pub fn trozos(fragmento: &str) -> Vec<TrozoFragmento> {
    let mut salida = Vec::new();
    let mut actual = String::new();
    let mut resaltado = false;
    for c in fragmento.chars() {
        let cambio = match c {
            INICIO_RESALTADO => Some(true),
            FIN_RESALTADO => Some(false),
            _ => None,
        };
        match cambio {
            Some(nuevo) => {
                if !actual.is_empty() {
                    salida.push(TrozoFragmento {
                        texto: std::mem::take(&mut actual),
                        resaltado,
                    });
                }
                resaltado = nuevo;
            }
            None => actual.push(c),
        }
    }
    if !actual.is_empty() {
        salida.push(TrozoFragmento {
            texto: actual,
            resaltado,
        });
    }
    salida
}

/// One search result.
#[derive(Object, Serialize, Clone, Debug)]
pub struct ResultadoBusqueda {
    /// Its conversation's id.
    pub conversacion_id: Value,
    /// Send time, ISO 8601.
    pub fecha_envio: String,
    /// An excerpt with the matched words marked.
    pub fragmento: Vec<TrozoFragmento>,
    /// The message's id (open the conversation scrolled to it).
    pub mensaje_id: Value,
    /// Relevance (results come best first).
    pub rango: f64,
    /// Its author's rut.
    pub usuario_id: String,
    /// Its author's name.
    pub usuario_nombre: String,
}

impl From<&Coincidencia> for ResultadoBusqueda {
    fn from(c: &Coincidencia) -> Self {
        ResultadoBusqueda {
            mensaje_id: c.mensaje_id.to_json(),
            conversacion_id: c.conversacion_id.to_json(),
            usuario_id: c.usuario_id.clone(),
            usuario_nombre: c.usuario_nombre.clone(),
            fecha_envio: c.fecha_envio.clone(),
            rango: c.rango,
            fragmento: trozos(&c.fragmento),
        }
    }
}

/// `GET /api/chat/buscar` answer.
#[derive(Object, Serialize, Debug)]
pub struct Resultados {
    /// Results skipped before this page.
    pub desde: i64,
    /// Whether another page follows (ask with `desde` + the number of results).
    pub hay_mas: bool,
    /// This page of results, best first.
    pub resultados: Vec<ResultadoBusqueda>,
    /// Always true.
    pub success: bool,
}

impl From<&PaginaBusqueda> for Resultados {
    fn from(p: &PaginaBusqueda) -> Self {
        Resultados {
            success: true,
            resultados: p.resultados.iter().map(ResultadoBusqueda::from).collect(),
            desde: p.desde,
            hay_mas: p.hay_mas,
        }
    }
}

/// An attachment's metadata.
#[derive(Object, Serialize, Clone, Debug)]
pub struct AdjuntoJson {
    /// Its conversation.
    pub conversacion_id: Value,
    /// Whether it is an image (show a preview).
    pub es_imagen: bool,
    /// The attachment's id.
    pub id: i64,
    /// The message that carries it.
    pub mensaje_id: Value,
    /// Where its PNG thumbnail is (images that could be decoded), else null.
    pub miniatura_url: Nulable<String>,
    /// File name (sanitized).
    pub nombre: String,
    /// Size in bytes.
    pub tamano: i64,
    /// Media type, decided from the bytes.
    pub tipo: String,
    /// Where to download it (members only).
    pub url: String,
}

impl From<&Adjunto> for AdjuntoJson {
    fn from(a: &Adjunto) -> Self {
        AdjuntoJson {
            id: a.id,
            mensaje_id: a.mensaje_id.to_json(),
            conversacion_id: a.conversacion_id.to_json(),
            nombre: a.nombre.clone(),
            tipo: a.tipo.clone(),
            tamano: a.tamano,
            es_imagen: a.tipo.starts_with("image/"),
            url: format!("/api/chat/adjuntos/{}", a.id),
            miniatura_url: Nulable(
                a.miniatura
                    .as_ref()
                    .map(|_| format!("/api/chat/adjuntos/{}/miniatura", a.id)),
            ),
        }
    }
}

/// `POST /api/chat/conversaciones/{id}/adjuntos` answer.
#[derive(Object, Serialize, Debug)]
pub struct AdjuntoSubido {
    /// The attachment.
    pub adjunto: AdjuntoJson,
    /// The message that carries the file (as `POST /api/chat/mensaje/enviar` returns it).
    pub mensaje: MensajeJson,
    /// Always true.
    pub success: bool,
}

impl AdjuntoSubido {
    /// The answer for `viewer`.
    pub fn para(mensaje: &Mensaje, adjunto: &Adjunto, viewer: &str) -> Self {
        AdjuntoSubido {
            success: true,
            mensaje: MensajeJson::para(mensaje, viewer),
            adjunto: AdjuntoJson::from(adjunto),
        }
    }
}

/// `GET /api/chat/conversaciones/{id}/adjuntos` answer.
#[derive(Object, Serialize, Debug)]
pub struct ListaAdjuntos {
    /// The conversation's attachments, oldest first.
    pub adjuntos: Vec<AdjuntoJson>,
    /// Always true.
    pub success: bool,
}

/// `PUT /api/chat/conversaciones/{id}/silencio` body.
#[derive(Object, Debug)]
pub struct SilencioBody {
    /// `true` mutes the conversation for the caller, `false` unmutes it.
    pub silenciado: bool,
}

/// The conversations the caller has muted.
#[derive(Object, Serialize, Debug)]
pub struct Silenciadas {
    /// Ids of the muted conversations.
    pub silenciadas: Vec<Value>,
    /// Always true.
    pub success: bool,
}

impl Silenciadas {
    /// The answer for a list of ids.
    pub fn de(ids: &[Id]) -> Self {
        Silenciadas {
            success: true,
            silenciadas: ids.iter().map(Id::to_json).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_split_into_marked_pieces() {
        let t = trozos("una \u{E000}canción\u{E001} <b>");
        assert_eq!(
            t,
            vec![
                TrozoFragmento {
                    texto: "una ".into(),
                    resaltado: false
                },
                TrozoFragmento {
                    texto: "canción".into(),
                    resaltado: true
                },
                TrozoFragmento {
                    texto: " <b>".into(),
                    resaltado: false
                },
            ]
        );
        assert!(trozos("").is_empty());
    }
}
