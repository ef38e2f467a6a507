//! Wire shapes of our own additions (not in either Weigence generation): message search,
//! attachments and per-conversation mute. v1-style: Spanish keys, `success` on every answer,
//! ids with their column's JSON type.

use poem_openapi::Object;
use serde::Serialize;
use serde_json::Value;

use super::Nulable;
use super::v1::{MensajeBase, MensajeJson};
use crate::dominio::{
    Adjunto, Coincidencia, Entrega, FIN_RESALTADO, Grupo, INICIO_RESALTADO, Id, Mensaje, Reaccion,
};
use crate::service::{Historial, PaginaBusqueda};

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

/// A group member (`G.miembros`).
#[derive(Object, Serialize, Clone, Debug)]
pub struct MiembroJson {
    /// May rename, add and remove members.
    pub es_admin: bool,
    /// Name.
    pub nombre: String,
    /// `rut_usuario`.
    pub usuario_id: String,
}

/// A conversation's members and group data (`G`).
#[derive(Object, Serialize, Clone, Debug)]
pub struct GrupoJson {
    /// Who created it, when known.
    pub creado_por: Nulable<String>,
    /// Group flag.
    pub es_grupal: bool,
    /// Conversation id, as a string.
    pub id: String,
    /// Members in join order.
    pub miembros: Vec<MiembroJson>,
    /// Group name (null for 1:1).
    pub nombre: Nulable<String>,
    /// Whether the caller is an admin (absent in broadcasts).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soy_admin: Option<bool>,
}

impl GrupoJson {
    /// The group as `viewer` sees it, or as everybody does (`None`, for broadcasts).
    pub fn para(g: &Grupo, viewer: Option<&str>) -> Self {
        GrupoJson {
            id: g.id.to_string(),
            nombre: Nulable(g.nombre.clone()),
            es_grupal: g.es_grupal,
            creado_por: Nulable(g.creado_por.clone()),
            miembros: g
                .miembros
                .iter()
                .map(|m| MiembroJson {
                    usuario_id: m.rut.clone(),
                    nombre: m.nombre.clone(),
                    es_admin: m.es_admin,
                })
                .collect(),
            soy_admin: viewer.map(|v| g.es_admin(v)),
        }
    }
}

/// `POST /api/chat/grupos` body.
#[derive(Object, Debug)]
pub struct CrearGrupoBody {
    /// 1 to 100 characters.
    pub nombre: Option<Value>,
    /// Ruts of at least two other users (at most 50).
    pub miembros: Option<Value>,
}

/// `PATCH /api/chat/grupos/{id}` body.
#[derive(Object, Debug)]
pub struct RenombrarBody {
    /// The new name, 1 to 100 characters.
    pub nombre: Option<Value>,
}

/// `POST /api/chat/grupos/{id}/miembros` body.
#[derive(Object, Debug)]
pub struct AgregarMiembroBody {
    /// The user to add.
    pub usuario_id: Option<Value>,
}

/// `PUT /api/chat/grupos/{id}/admins/{rut}` body.
#[derive(Object, Debug)]
pub struct AdminBody {
    /// Grant (true) or revoke (false).
    pub es_admin: Option<Value>,
}

/// A group answer.
#[derive(Object, Serialize, Debug)]
pub struct GrupoRespuesta {
    /// The group as it is now.
    pub grupo: GrupoJson,
    /// Always true.
    pub success: bool,
}

/// `PATCH /api/chat/mensajes/{id}` body.
#[derive(Object, Debug)]
pub struct EditarBody {
    /// The new text.
    pub contenido: Option<Value>,
}

/// `POST /api/chat/mensajes/{id}/reacciones` body.
#[derive(Object, Debug)]
pub struct AlternarReaccionBody {
    /// One emoji.
    pub emoji: Option<Value>,
}

/// `POST /api/chat/conversaciones/{id}/entregado` body.
#[derive(Object, Debug)]
pub struct EntregadoBody {
    /// The newest message received (the newest of the conversation when absent).
    pub mensaje_id: Option<Value>,
}

/// One emoji's reactions to a message (`R`).
#[derive(Object, Serialize, Clone, Debug)]
pub struct ReaccionResumen {
    /// How many users.
    pub cantidad: i64,
    /// The emoji.
    pub emoji: String,
    /// Whether the viewer is one of them.
    pub mia: bool,
    /// Who, in reaction order.
    pub usuarios: Vec<String>,
}

/// Reactions grouped by emoji, in first-use order.
pub fn reacciones_para(reacciones: &[Reaccion], viewer: &str) -> Vec<ReaccionResumen> {
    let mut salida: Vec<ReaccionResumen> = Vec::new();
    for r in reacciones {
        let i = match salida.iter().position(|x| x.emoji == r.emoji) {
            Some(i) => i,
            None => {
                salida.push(ReaccionResumen {
                    emoji: r.emoji.clone(),
                    cantidad: 0,
                    usuarios: Vec::new(),
                    mia: false,
                });
                salida.len() - 1
            }
        };
        let e = &mut salida[i];
        e.cantidad += 1;
        e.mia |= r.usuario_id == viewer;
        e.usuarios.push(r.usuario_id.clone());
    }
    salida
}

/// Who received and read one of the viewer's messages.
#[derive(Object, Serialize, Clone, Debug)]
pub struct EntregaJson {
    /// Members other than the author.
    pub destinatarios: i64,
    /// Who has it on a device.
    pub entregado_a: Vec<String>,
    /// `"enviado"`, `"entregado"` (every recipient has it) or `"leido"` (every recipient read it).
    pub estado: String,
    /// Who read it.
    pub leido_por: Vec<String>,
}

impl From<&Entrega> for EntregaJson {
    fn from(e: &Entrega) -> Self {
        let todos = |n: usize| e.destinatarios > 0 && n as i64 >= e.destinatarios;
        let estado = if todos(e.leido_por.len()) {
            "leido"
        } else if todos(e.entregado_a.len()) {
            "entregado"
        } else {
            "enviado"
        };
        EntregaJson {
            destinatarios: e.destinatarios,
            entregado_a: e.entregado_a.clone(),
            leido_por: e.leido_por.clone(),
            estado: estado.into(),
        }
    }
}

/// A message as our page shows it (`MP`): the v1 message with its kind, quote, grouped
/// reactions and, on the viewer's own messages, its delivery state.
#[derive(Object, Serialize, Clone, Debug)]
pub struct MensajePropio {
    /// The v1 message (with `tipo`, `reply_to`, `cita`, `es_propio`).
    #[oai(flatten)]
    #[serde(flatten)]
    pub mensaje: MensajeJson,
    /// Delivery state of the viewer's own messages (null on others').
    pub entrega: Nulable<EntregaJson>,
    /// Reactions by emoji.
    pub reacciones: Vec<ReaccionResumen>,
}

impl MensajePropio {
    /// `m` as `viewer` sees it, with its delivery state when `entregas` has it.
    pub fn para(m: &Mensaje, viewer: &str, entregas: &[Entrega]) -> Self {
        let entrega = entregas.iter().find(|e| e.mensaje_id == m.id);
        MensajePropio {
            mensaje: MensajeJson::para(m, viewer),
            entrega: Nulable(entrega.map(EntregaJson::from)),
            reacciones: reacciones_para(&m.extras.reacciones, viewer),
        }
    }

    /// Each of `mensajes` as `viewer` sees it.
    pub fn lista(mensajes: &[Mensaje], viewer: &str, entregas: &[Entrega]) -> Vec<Self> {
        mensajes
            .iter()
            .map(|m| MensajePropio::para(m, viewer, entregas))
            .collect()
    }
}

/// `GET /api/chat/conversaciones/{id}/historial` answer.
#[derive(Object, Serialize, Debug)]
pub struct HistorialJson {
    /// The pinned messages, in pin order.
    pub fijados: Vec<MensajePropio>,
    /// Members and group data.
    pub grupo: GrupoJson,
    /// The messages, oldest first.
    pub mensajes: Vec<MensajePropio>,
    /// Always true.
    pub success: bool,
}

impl HistorialJson {
    /// The history as `viewer` sees it.
    pub fn para(h: &Historial, viewer: &str) -> Self {
        HistorialJson {
            success: true,
            grupo: GrupoJson::para(&h.grupo, Some(viewer)),
            mensajes: MensajePropio::lista(&h.mensajes, viewer, &h.entregas),
            fijados: MensajePropio::lista(&h.fijados, viewer, &h.entregas),
        }
    }
}

/// `PATCH /api/chat/mensajes/{id}` answer.
#[derive(Object, Serialize, Debug)]
pub struct MensajeEditado {
    /// The edited message.
    pub mensaje: MensajePropio,
    /// Always true.
    pub success: bool,
}

/// `POST /api/chat/mensajes/{id}/reacciones` answer.
#[derive(Object, Serialize, Debug)]
pub struct ReaccionesRespuesta {
    /// The message.
    pub mensaje_id: Value,
    /// Its reactions by emoji.
    pub reacciones: Vec<ReaccionResumen>,
    /// Always true.
    pub success: bool,
}

/// Pin answers.
#[derive(Object, Serialize, Debug)]
pub struct FijadosRespuesta {
    /// The conversation's pins, in pin order.
    pub fijados: Vec<MensajePropio>,
    /// Always true.
    pub success: bool,
}

/// `POST /api/chat/conversaciones/{id}/entregado` answer.
#[derive(Object, Serialize, Debug)]
pub struct EntregadoRespuesta {
    /// The delivered marker when it moved, else null.
    pub ultimo: Nulable<Value>,
    /// Always true.
    pub success: bool,
}

impl EntregadoRespuesta {
    /// The answer (REST, and the `marcar_entregado` ack) for a marker that moved to `marca`,
    /// or did not move (`None`).
    pub fn de(marca: Option<&Id>) -> Self {
        EntregadoRespuesta {
            success: true,
            ultimo: Nulable(marca.map(Id::to_json)),
        }
    }
}

/// `reacciones_actualizadas`: a message's reactions after a change.
#[derive(Serialize, Debug)]
pub struct ReaccionesEvento {
    /// Its conversation.
    pub conversacion_id: String,
    /// The message.
    pub mensaje_id: Value,
    /// Every reaction, oldest first.
    pub reacciones: Vec<ReaccionJson>,
}

/// One user's reaction in [`ReaccionesEvento`].
#[derive(Serialize, Debug)]
pub struct ReaccionJson {
    /// The emoji.
    pub emoji: String,
    /// Who.
    pub usuario_id: String,
}

impl ReaccionesEvento {
    /// The event for a message's new reactions.
    pub fn de(conversacion: &Id, mensaje: &Id, reacciones: &[Reaccion]) -> Self {
        ReaccionesEvento {
            conversacion_id: conversacion.to_string(),
            mensaje_id: mensaje.to_json(),
            reacciones: reacciones
                .iter()
                .map(|r| ReaccionJson {
                    emoji: r.emoji.clone(),
                    usuario_id: r.usuario_id.clone(),
                })
                .collect(),
        }
    }
}

/// `mensaje_editado`.
#[derive(Serialize, Debug)]
pub struct MensajeEditadoEvento {
    /// Its conversation.
    pub conversacion_id: String,
    /// The message as everybody sees it.
    pub mensaje: MensajeBase,
}

impl MensajeEditadoEvento {
    /// The event for an edited message.
    pub fn de(m: &Mensaje) -> Self {
        MensajeEditadoEvento {
            conversacion_id: m.conversacion_id.to_string(),
            mensaje: MensajeBase::from(m),
        }
    }
}

/// `fijados_actualizados`.
#[derive(Serialize, Debug)]
pub struct FijadosEvento {
    /// The conversation.
    pub conversacion_id: String,
    /// The pinned messages' ids, in pin order.
    pub fijados: Vec<Value>,
}

impl FijadosEvento {
    /// The event for a conversation's new pins.
    pub fn de(conversacion: &Id, fijados: &[Id]) -> Self {
        FijadosEvento {
            conversacion_id: conversacion.to_string(),
            fijados: fijados.iter().map(Id::to_json).collect(),
        }
    }
}

/// `grupo_actualizado`.
#[derive(Serialize, Debug)]
pub struct GrupoEvento {
    /// The conversation.
    pub conversacion_id: String,
    /// The group as it is now.
    pub grupo: GrupoJson,
}

/// `removido_de_conversacion`: the user is no longer a member of the conversation.
#[derive(Serialize, Debug)]
pub struct RemovidoEvento {
    /// The conversation.
    pub conversacion_id: String,
}

impl GrupoEvento {
    /// The event for a changed group.
    pub fn de(g: &Grupo) -> Self {
        GrupoEvento {
            conversacion_id: g.id.to_string(),
            grupo: GrupoJson::para(g, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contrato::v1::MarcaEvento;
    use crate::dominio::IdKind;
    use serde_json::json;

    #[test]
    fn marker_answers_and_events_carry_ids_with_their_column_type() {
        let conv = Id::parse("7", IdKind::Integer).unwrap();
        let ultimo = Id::parse("42", IdKind::Integer).unwrap();
        assert_eq!(
            serde_json::to_value(EntregadoRespuesta::de(Some(&ultimo))).unwrap(),
            json!({"success": true, "ultimo": 42})
        );
        assert_eq!(
            serde_json::to_value(EntregadoRespuesta::de(None)).unwrap(),
            json!({"success": true, "ultimo": null})
        );
        assert_eq!(
            serde_json::to_value(MarcaEvento::de(&conv, "1-9", &ultimo)).unwrap(),
            json!({"conversacion_id": "7", "usuario_id": "1-9", "ultimo_id": 42})
        );
    }

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
