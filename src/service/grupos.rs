//! Groups and the life of a message in our own API: create, rename, add, remove, leave, admins;
//! edits, reaction toggles, several pins, delivery markers and the rich history. Every change is
//! one function of `sql/grupos.sql` (membership and role checked in the same transaction), so a
//! removed member is refused at once and concurrent changes serialize in the database.

use serde_json::Value;

use super::{Actor, ChatService, ErrorChat, Resultado, entrada};
use crate::dominio::{Conversacion, Entrega, Grupo, Id, IdKinds, Mensaje, Usuario};
use crate::store::grupos::{self, CambioGrupo, Grupos, ModoReaccion, Rechazo};

/// Longest group name, in characters (the column is varchar(100)).
const MAX_NOMBRE: usize = 100;
/// Most members a group is created with (the creator excluded).
const MAX_MIEMBROS: usize = 50;

/// A conversation's history as our page shows it.
#[derive(Clone, Debug)]
pub struct Historial {
    /// The conversation's members and group data.
    pub grupo: Grupo,
    /// The messages, oldest first.
    pub mensajes: Vec<Mensaje>,
    /// The pinned messages, in pin order.
    pub fijados: Vec<Mensaje>,
    /// Who received and read each of the viewer's own messages (listed or pinned).
    pub entregas: Vec<Entrega>,
}

impl ChatService {
    /// The calls of `sql/grupos.sql`, or 503 naming it when it is not applied.
    pub(super) async fn grupos(&self) -> Resultado<(Grupos<'_>, IdKinds)> {
        let g = self
            .grupos_si_hay()
            .await?
            .ok_or(ErrorChat::FaltaEsquema(grupos::ARCHIVO))?;
        let kinds = g.kinds();
        Ok((g, kinds))
    }

    /// The calls of `sql/grupos.sql` when it is applied (the v2 routes and the delete use them
    /// then, and their older path otherwise).
    pub(super) async fn grupos_si_hay(&self) -> Resultado<Option<Grupos<'_>>> {
        if !self.store.grupos().await? {
            return Ok(None);
        }
        let kinds = self.store.id_kinds().await?;
        Ok(Some(Grupos::new(self.store.as_ref(), kinds)))
    }

    /// Creates a group named `nombre` with the actor (its admin) and `miembros` (at least two
    /// other users); every member hears `nueva_conversacion`.
    pub async fn crear_grupo(
        &self,
        actor: &Actor,
        nombre: Option<&Value>,
        miembros: Option<&Value>,
    ) -> Resultado<Grupo> {
        self.limitar(actor)?;
        let nombre = nombre_grupo(nombre)?;
        let miembros = lista_miembros(&actor.rut, miembros)?;
        let (g, _) = self.grupos().await?;
        let (id, cambio) = g
            .crear(&actor.rut, nombre, &miembros)
            .await?
            .map_err(rechazo)?;
        tracing::info!(conversacion = %id, usuario = %actor.rut, miembros = miembros.len(), "grupo creado");
        let grupo = self.grupo_de(&g, &id, &actor.rut).await?;
        for otro in miembros.iter() {
            self.tiempo_real
                .conversacion_nueva(otro, &vista(&grupo, otro, &cambio.mensaje))
                .await;
        }
        self.tiempo_real
            .mensaje_nuevo(&cambio.mensaje, &cambio.miembros)
            .await;
        Ok(grupo)
    }

    /// A conversation's members and group data (members only).
    pub async fn grupo(&self, actor: &Actor, id: &str) -> Resultado<Grupo> {
        self.limitar(actor)?;
        let (g, kinds) = self.grupos().await?;
        let id = id_conversacion(id, kinds)?;
        self.grupo_de(&g, &id, &actor.rut).await
    }

    /// Renames a group (admins only).
    pub async fn renombrar_grupo(
        &self,
        actor: &Actor,
        id: &str,
        nombre: Option<&Value>,
    ) -> Resultado<Grupo> {
        self.limitar(actor)?;
        let nombre = nombre_grupo(nombre)?;
        let (g, kinds) = self.grupos().await?;
        let id = id_conversacion(id, kinds)?;
        let cambio = g
            .renombrar(&id, &actor.rut, nombre)
            .await?
            .map_err(rechazo)?;
        self.tras_cambio(&g, &id, &actor.rut, &cambio).await
    }

    /// Adds a user to a group (admins only); they hear `nueva_conversacion` at once.
    pub async fn agregar_miembro(
        &self,
        actor: &Actor,
        id: &str,
        usuario: Option<&Value>,
    ) -> Resultado<Grupo> {
        self.limitar(actor)?;
        let nuevo = usuario
            .and_then(entrada::rut)
            .ok_or(ErrorChat::Invalido("usuario_id inválido"))?;
        let (g, kinds) = self.grupos().await?;
        let id = id_conversacion(id, kinds)?;
        let cambio = g.agregar(&id, &actor.rut, &nuevo).await?.map_err(rechazo)?;
        tracing::info!(conversacion = %id, usuario = %actor.rut, "miembro agregado");
        let grupo = self.tras_cambio(&g, &id, &actor.rut, &cambio).await?;
        self.tiempo_real
            .conversacion_nueva(&nuevo, &vista(&grupo, &nuevo, &cambio.mensaje))
            .await;
        Ok(grupo)
    }

    /// Removes a member (admins only; the creator only by leaving). Their sockets leave the
    /// conversation's room on every instance before anyone hears of it.
    pub async fn quitar_miembro(&self, actor: &Actor, id: &str, rut: &str) -> Resultado<Grupo> {
        self.limitar(actor)?;
        let quitado = entrada::rut(&Value::String(rut.to_owned()))
            .ok_or(ErrorChat::Invalido("usuario_id inválido"))?;
        if quitado == actor.rut {
            return Err(ErrorChat::Invalido(
                "Para salir del grupo usa /salir, no quitarte a ti mismo",
            ));
        }
        let (g, kinds) = self.grupos().await?;
        let id = id_conversacion(id, kinds)?;
        let cambio = g
            .quitar(&id, &actor.rut, &quitado)
            .await?
            .map_err(rechazo)?;
        tracing::info!(conversacion = %id, usuario = %actor.rut, "miembro quitado");
        self.tiempo_real.removido(&id, &quitado).await;
        self.tras_cambio(&g, &id, &actor.rut, &cambio).await
    }

    /// The actor leaves a group; when they were its last admin, the longest-standing member
    /// becomes admin.
    pub async fn salir_grupo(&self, actor: &Actor, id: &str) -> Resultado<()> {
        self.limitar(actor)?;
        let (g, kinds) = self.grupos().await?;
        let id = id_conversacion(id, kinds)?;
        let cambio = g
            .quitar(&id, &actor.rut, &actor.rut)
            .await?
            .map_err(rechazo)?;
        tracing::info!(conversacion = %id, usuario = %actor.rut, "miembro salió");
        self.tiempo_real.removido(&id, &actor.rut).await;
        if let Some(otro) = cambio.miembros.first() {
            self.tras_cambio(&g, &id, otro, &cambio).await?;
        }
        Ok(())
    }

    /// Grants or revokes a member's admin role (admins only; never the creator's).
    pub async fn cambiar_admin(
        &self,
        actor: &Actor,
        id: &str,
        rut: &str,
        es_admin: Option<&Value>,
    ) -> Resultado<Grupo> {
        self.limitar(actor)?;
        let es_admin = es_admin
            .and_then(Value::as_bool)
            .ok_or(ErrorChat::Invalido("es_admin debe ser true o false"))?;
        let usuario = entrada::rut(&Value::String(rut.to_owned()))
            .ok_or(ErrorChat::Invalido("usuario_id inválido"))?;
        let (g, kinds) = self.grupos().await?;
        let id = id_conversacion(id, kinds)?;
        let cambio = g
            .admin(&id, &actor.rut, &usuario, es_admin)
            .await?
            .map_err(rechazo)?;
        self.tras_cambio(&g, &id, &actor.rut, &cambio).await
    }

    /// Edits one of the actor's messages within the configured window.
    pub async fn editar(
        &self,
        actor: &Actor,
        id: &str,
        contenido: Option<&Value>,
    ) -> Resultado<(Mensaje, Vec<Entrega>)> {
        self.limitar(actor)?;
        let contenido = entrada::contenido(
            Some(&Value::Bool(true)),
            contenido,
            self.limites.max_caracteres,
        )?;
        let (g, kinds) = self.grupos().await?;
        let id = Id::parse(id, kinds.mensaje).ok_or(ErrorChat::MensajeNoEncontrado)?;
        let ventana = i32::try_from(self.limites.ventana_edicion.as_secs()).unwrap_or(i32::MAX);
        let mensaje = g
            .editar(&id, &actor.rut, contenido, ventana)
            .await?
            .map_err(rechazo_mensaje)?;
        self.tiempo_real.mensaje_editado(&mensaje).await;
        let entregas = self
            .entregas_propias(
                &g,
                &mensaje.conversacion_id,
                actor,
                std::slice::from_ref(&mensaje),
            )
            .await?;
        Ok((mensaje, entregas))
    }

    /// Who received and read the actor's own messages among `mensajes` (system messages
    /// excepted): one statement.
    async fn entregas_propias(
        &self,
        g: &Grupos<'_>,
        conversacion: &Id,
        actor: &Actor,
        mensajes: &[Mensaje],
    ) -> Resultado<Vec<Entrega>> {
        let propios = mensajes_propios(&actor.rut, mensajes);
        Ok(g.entregas(conversacion, &propios).await?)
    }

    /// Toggles one emoji of the actor on a message (several emoji per message, one of each per
    /// user); the message's reactions afterwards.
    pub async fn alternar_reaccion(
        &self,
        actor: &Actor,
        id: &str,
        emoji: Option<&Value>,
    ) -> Resultado<(Id, Vec<crate::dominio::Reaccion>)> {
        self.limitar(actor)?;
        let emoji = entrada::emoji(emoji)?;
        let (g, kinds) = self.grupos().await?;
        let id = Id::parse(id, kinds.mensaje).ok_or(ErrorChat::MensajeNoEncontrado)?;
        let r = g
            .reaccionar(&id, &actor.rut, Some(emoji), ModoReaccion::Alternar)
            .await?
            .map_err(rechazo_mensaje)?;
        let puesta = r.puesta.then_some(emoji);
        self.tiempo_real
            .reaccion(&r.conversacion, &id, &actor.rut, puesta, &r.lista)
            .await;
        Ok((id, r.lista))
    }

    /// Pins (`fijar`) or unpins a message; the conversation's pins afterwards, in pin order.
    pub async fn fijar_varios(
        &self,
        actor: &Actor,
        id: &str,
        fijar: bool,
    ) -> Resultado<(Vec<Mensaje>, Vec<Entrega>)> {
        self.limitar(actor)?;
        let (g, kinds) = self.grupos().await?;
        let id = Id::parse(id, kinds.mensaje).ok_or(ErrorChat::MensajeNoEncontrado)?;
        let (conversacion, fijados) = self.cambiar_fijado(&g, &id, actor, fijar).await?;
        let entregas = self
            .entregas_propias(&g, &conversacion, actor, &fijados)
            .await?;
        Ok((fijados, entregas))
    }

    /// One pin change through `sql/grupos.sql`, announced in both generations' shapes.
    pub(super) async fn cambiar_fijado(
        &self,
        g: &Grupos<'_>,
        id: &Id,
        actor: &Actor,
        fijar: bool,
    ) -> Resultado<(Id, Vec<Mensaje>)> {
        let f = g
            .fijar(id, &actor.rut, fijar)
            .await?
            .map_err(rechazo_mensaje)?;
        if f.cambio {
            let ids: Vec<Id> = f.mensajes.iter().map(|m| m.id.clone()).collect();
            self.tiempo_real.fijados(&f.conversacion, &ids).await;
            match f.mensajes.iter().find(|m| &m.id == id) {
                Some(m) if fijar => self.tiempo_real.mensaje_fijado(m).await,
                _ => {
                    self.tiempo_real
                        .mensaje_desfijado(&f.conversacion, id)
                        .await
                }
            }
        }
        Ok((f.conversacion, f.mensajes))
    }

    /// Moves the actor's delivered marker forward (to `mensaje`, else the newest message);
    /// returns the conversation and the new marker when it moved.
    pub async fn marcar_entregado(
        &self,
        actor: &Actor,
        conversacion: Option<&Value>,
        mensaje: Option<&Value>,
    ) -> Resultado<(Id, Option<Id>)> {
        self.limitar(actor)?;
        let (g, kinds) = self.grupos().await?;
        let conversacion = conversacion
            .and_then(|v| Id::from_json(v, kinds.conversacion))
            .ok_or(ErrorChat::SinAcceso)?;
        let hasta = match mensaje.filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(
                Id::from_json(v, kinds.mensaje)
                    .ok_or(ErrorChat::Invalido("mensaje_id inválido"))?,
            ),
        };
        let marca = g
            .marcar_entregado(&conversacion, &actor.rut, hasta.as_ref())
            .await?
            .map_err(rechazo)?;
        if let Some(ultimo) = &marca {
            self.tiempo_real
                .mensaje_entregado(&conversacion, &actor.rut, ultimo)
                .await;
        }
        Ok((conversacion, marca))
    }

    /// A conversation's history as our page shows it: members, messages (with quotes,
    /// reactions and kinds), pins, and who received and read the actor's own messages. Four
    /// statements, whatever the page size.
    pub async fn historial(
        &self,
        actor: &Actor,
        id: &str,
        antes: Option<&str>,
        limite: Option<&str>,
    ) -> Resultado<Historial> {
        self.limitar(actor)?;
        let (g, kinds) = self.grupos().await?;
        let conv = id_conversacion(id, kinds)?;
        let grupo = self.grupo_de(&g, &conv, &actor.rut).await?;
        let mensajes = self.pagina(&conv, antes, limite).await?;
        let fijados = g.fijados(&conv, &actor.rut).await?.map_err(rechazo)?;
        let con_fijados: Vec<Mensaje> = mensajes.iter().chain(&fijados).cloned().collect();
        let entregas = self
            .entregas_propias(&g, &conv, actor, &con_fijados)
            .await?;
        Ok(Historial {
            grupo,
            mensajes,
            fijados,
            entregas,
        })
    }

    /// Whether the actor is an admin of the message's group (a delete of another's message).
    pub(super) async fn es_admin_de(&self, actor: &Actor, conversacion: &Id) -> Resultado<bool> {
        let Some(g) = self.grupos_si_hay().await? else {
            return Ok(false);
        };
        Ok(g.grupo(conversacion, &actor.rut)
            .await?
            .is_ok_and(|grupo| grupo.es_grupal && grupo.es_admin(&actor.rut)))
    }

    async fn grupo_de(&self, g: &Grupos<'_>, id: &Id, rut: &str) -> Resultado<Grupo> {
        g.grupo(id, rut).await?.map_err(rechazo)
    }

    /// After a membership change: the group as it is now (seen by `rut`, a member), announced
    /// with its system message to the room and every member.
    async fn tras_cambio(
        &self,
        g: &Grupos<'_>,
        id: &Id,
        rut: &str,
        cambio: &CambioGrupo,
    ) -> Resultado<Grupo> {
        let grupo = self.grupo_de(g, id, rut).await?;
        self.tiempo_real
            .mensaje_nuevo(&cambio.mensaje, &cambio.miembros)
            .await;
        self.tiempo_real.grupo_actualizado(&grupo).await;
        Ok(grupo)
    }
}

/// The conversation as `para` sees it right after a change whose system message is `ultimo`
/// (built from the group, so telling every member costs no statement).
fn vista(grupo: &Grupo, para: &str, ultimo: &Mensaje) -> Conversacion {
    Conversacion {
        id: grupo.id.clone(),
        nombre: grupo.nombre.clone(),
        es_grupal: grupo.es_grupal,
        participantes: grupo
            .miembros
            .iter()
            .filter(|m| m.rut != para)
            .map(|m| Usuario::from_columns(m.rut.clone(), Some(m.nombre.clone()), None, None))
            .collect(),
        ultimo_mensaje: Some(ultimo.clone()),
        no_leidos: i64::from(ultimo.usuario_id != para),
        fecha_creacion: Some(ultimo.fecha_envio.clone()),
        ultimo_mensaje_timestamp: Some(ultimo.fecha_envio.clone()),
        ultima_actualizacion: Some(ultimo.fecha_envio.clone()),
    }
}

/// The ids of `rut`'s own text messages among `mensajes`, each once, in first-seen order (a
/// pinned message is also in the page it was listed in).
fn mensajes_propios(rut: &str, mensajes: &[Mensaje]) -> Vec<Id> {
    let mut vistos = std::collections::HashSet::new();
    mensajes
        .iter()
        .filter(|m| m.usuario_id == rut && !m.extras.sistema && vistos.insert(&m.id))
        .map(|m| m.id.clone())
        .collect()
}

/// A group name: a string of 1 to 100 characters once trimmed.
fn nombre_grupo(valor: Option<&Value>) -> Resultado<&str> {
    match valor {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            let s = s.trim();
            if s.chars().count() > MAX_NOMBRE {
                Err(ErrorChat::Invalido(
                    "El nombre del grupo admite hasta 100 caracteres",
                ))
            } else if s.chars().any(char::is_control) {
                Err(ErrorChat::Invalido("Nombre de grupo inválido"))
            } else {
                Ok(s)
            }
        }
        _ => Err(ErrorChat::Invalido("El grupo necesita un nombre")),
    }
}

/// The members a group is created with: well-formed ruts, the creator left out, duplicates
/// dropped, at least two and at most [`MAX_MIEMBROS`].
fn lista_miembros(creador: &str, valor: Option<&Value>) -> Resultado<Vec<String>> {
    let Some(Value::Array(lista)) = valor else {
        return Err(ErrorChat::Invalido("miembros debe ser una lista de ruts"));
    };
    if lista.len() > MAX_MIEMBROS * 2 {
        return Err(ErrorChat::Invalido("Demasiados miembros"));
    }
    let mut miembros: Vec<String> = Vec::with_capacity(lista.len());
    for v in lista {
        let rut = entrada::rut(v).ok_or(ErrorChat::Invalido("miembros: rut inválido"))?;
        if rut != creador && !miembros.contains(&rut) {
            miembros.push(rut);
        }
    }
    if miembros.len() < 2 {
        return Err(ErrorChat::Invalido(
            "Un grupo necesita al menos dos miembros además de ti",
        ));
    }
    if miembros.len() > MAX_MIEMBROS {
        return Err(ErrorChat::Invalido("Demasiados miembros"));
    }
    Ok(miembros)
}

fn id_conversacion(id: &str, kinds: IdKinds) -> Resultado<Id> {
    Id::parse(id, kinds.conversacion).ok_or(ErrorChat::ConversacionNoEncontrada)
}

/// A refusal of a conversation-level function.
fn rechazo(r: Rechazo) -> ErrorChat {
    match r {
        Rechazo::NoExiste => ErrorChat::ConversacionNoEncontrada,
        Rechazo::NoGrupo => ErrorChat::NoEsGrupo,
        Rechazo::SinAcceso => ErrorChat::SinAcceso,
        Rechazo::NoAdmin => ErrorChat::SoloAdmin,
        Rechazo::UsuarioNoEncontrado => ErrorChat::UsuarioNoEncontrado,
        Rechazo::YaMiembro => ErrorChat::YaEsMiembro,
        Rechazo::NoMiembro => ErrorChat::NoEsMiembro,
        Rechazo::EsCreador => ErrorChat::EsCreador,
        Rechazo::NoAutor => ErrorChat::SoloElAutorEdita,
        Rechazo::NoEditable => ErrorChat::MensajeDeSistema,
        Rechazo::FueraDePlazo => ErrorChat::FueraDePlazo,
        Rechazo::Demasiados => ErrorChat::DemasiadosFijados,
    }
}

/// A refusal of a message-level function (a missing message is 404, a foreign one 403).
pub(super) fn rechazo_mensaje(r: Rechazo) -> ErrorChat {
    match r {
        Rechazo::NoExiste => ErrorChat::MensajeNoEncontrado,
        Rechazo::SinAcceso => ErrorChat::SinAccesoMensaje,
        otro => rechazo(otro),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_names_are_trimmed_and_bounded() {
        assert_eq!(nombre_grupo(Some(&json!("  Ventas "))).unwrap(), "Ventas");
        for malo in [json!(""), json!("   "), json!(5), json!("a\u{7}b")] {
            assert!(nombre_grupo(Some(&malo)).is_err(), "{malo}");
        }
        assert!(nombre_grupo(None).is_err());
        assert!(nombre_grupo(Some(&json!("x".repeat(101)))).is_err());
        assert!(nombre_grupo(Some(&json!("ñ".repeat(100)))).is_ok());
    }

    fn mensaje(id: &str, autor: &str, sistema: bool) -> Mensaje {
        let kind = crate::dominio::IdKind::Integer;
        Mensaje {
            id: Id::parse(id, kind).unwrap(),
            conversacion_id: Id::parse("7", kind).unwrap(),
            usuario_id: autor.into(),
            contenido: "hola".into(),
            fecha_envio: "2026-01-02T03:04:05+00:00".into(),
            editado: false,
            eliminado: false,
            autor: Usuario::from_columns(autor.into(), None, None, None),
            extras: crate::dominio::ExtrasMensaje {
                sistema,
                ..Default::default()
            },
        }
    }

    #[test]
    fn own_messages_are_asked_for_once_and_system_messages_never() {
        // The page 1, 2, 3, 4 and then the pins 1 and 3: 1 again, not next to its first copy.
        let lista = [
            mensaje("1", "1-9", false),
            mensaje("2", "2-7", false),
            mensaje("3", "1-9", false),
            mensaje("4", "1-9", true),
            mensaje("1", "1-9", false),
            mensaje("3", "1-9", false),
        ];
        let ids: Vec<String> = mensajes_propios("1-9", &lista)
            .iter()
            .map(|i| i.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["1", "3"]);
    }

    #[test]
    fn members_need_two_others_and_drop_the_creator_and_duplicates() {
        let l = lista_miembros("1-9", Some(&json!(["2-7", "1-9", "2-7", "3-5"]))).unwrap();
        assert_eq!(l, vec!["2-7".to_owned(), "3-5".to_owned()]);
        assert!(lista_miembros("1-9", Some(&json!(["2-7", "1-9"]))).is_err());
        assert!(lista_miembros("1-9", Some(&json!("2-7"))).is_err());
        assert!(lista_miembros("1-9", Some(&json!(["2-7", true]))).is_err());
        let muchos: Vec<String> = (0..51).map(|i| format!("{}-1", 100 + i)).collect();
        assert!(lista_miembros("1-9", Some(&json!(muchos))).is_err());
    }
}
