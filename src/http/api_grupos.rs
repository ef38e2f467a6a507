//! Our own API for groups and the life of a message: groups and their members, the rich history
//! our page reads, reaction toggles, several pins and delivery markers (spec in the README).
//! Each operation only translates between JSON and the service; every rule (membership and role
//! on every request, limits, validation) lives in [`ChatService`](crate::service::ChatService).

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::api::{Api, Directo, Etiqueta, Ok200};
use super::sesion::{Ambas, Autenticado};
use crate::contrato::Exito;
use crate::contrato::propia::*;

/// `POST /api/chat/grupos` answers.
#[derive(ApiResponse)]
pub enum GrupoCreado {
    /// Created; every member heard `nueva_conversacion`.
    #[oai(status = 201)]
    Creado(Directo<GrupoRespuesta>),
}

/// Groups, history, reactions, pins and delivery.
pub struct GruposApi;

#[OpenApi(prefix_path = "/chat", tag = "Etiqueta::Grupos")]
impl GruposApi {
    /// Creates a group: `nombre` (1-100 characters) and `miembros`, the ruts of at least two
    /// other users (at most 50). The caller is its admin; a system message tells it.
    #[oai(path = "/grupos", method = "post")]
    async fn crear(&self, yo: Autenticado<Ambas>, body: Json<CrearGrupoBody>) -> Api<GrupoCreado> {
        let grupo = yo
            .servicio
            .crear_grupo(&yo.actor, body.nombre.as_ref(), body.miembros.as_ref())
            .await?;
        Ok(GrupoCreado::Creado(Directo(respuesta(
            &grupo,
            &yo.actor.rut,
        ))))
    }

    /// A conversation's members (with their admin flag) and group data; members only.
    #[oai(path = "/grupos/:id", method = "get")]
    async fn ver(&self, yo: Autenticado<Ambas>, id: Path<String>) -> Api<Ok200<GrupoRespuesta>> {
        let grupo = yo.servicio.grupo(&yo.actor, &id.0).await?;
        Ok(Ok200::Ok(Directo(respuesta(&grupo, &yo.actor.rut))))
    }

    /// Renames a group (admins only).
    #[oai(path = "/grupos/:id", method = "patch")]
    async fn renombrar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        body: Json<RenombrarBody>,
    ) -> Api<Ok200<GrupoRespuesta>> {
        let grupo = yo
            .servicio
            .renombrar_grupo(&yo.actor, &id.0, body.nombre.as_ref())
            .await?;
        Ok(Ok200::Ok(Directo(respuesta(&grupo, &yo.actor.rut))))
    }

    /// Adds a user (admins only; 409 when already a member); they hear `nueva_conversacion`.
    #[oai(path = "/grupos/:id/miembros", method = "post")]
    async fn agregar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        body: Json<AgregarMiembroBody>,
    ) -> Api<Ok200<GrupoRespuesta>> {
        let grupo = yo
            .servicio
            .agregar_miembro(&yo.actor, &id.0, body.usuario_id.as_ref())
            .await?;
        Ok(Ok200::Ok(Directo(respuesta(&grupo, &yo.actor.rut))))
    }

    /// Removes a member (admins only; never the creator). The member loses access at once, on
    /// every route, event and instance.
    #[oai(path = "/grupos/:id/miembros/:rut", method = "delete")]
    async fn quitar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        rut: Path<String>,
    ) -> Api<Ok200<GrupoRespuesta>> {
        let grupo = yo.servicio.quitar_miembro(&yo.actor, &id.0, &rut.0).await?;
        Ok(Ok200::Ok(Directo(respuesta(&grupo, &yo.actor.rut))))
    }

    /// The caller leaves a group; the last admin leaving hands the role to the longest-standing
    /// member.
    #[oai(path = "/grupos/:id/salir", method = "post")]
    async fn salir(&self, yo: Autenticado<Ambas>, id: Path<String>) -> Api<Ok200<Exito>> {
        yo.servicio.salir_grupo(&yo.actor, &id.0).await?;
        Ok(Ok200::Ok(Directo(Exito { success: true })))
    }

    /// Grants or revokes a member's admin role (admins only; never the creator's).
    #[oai(path = "/grupos/:id/admins/:rut", method = "put")]
    async fn admin(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        rut: Path<String>,
        body: Json<AdminBody>,
    ) -> Api<Ok200<GrupoRespuesta>> {
        let grupo = yo
            .servicio
            .cambiar_admin(&yo.actor, &id.0, &rut.0, body.es_admin.as_ref())
            .await?;
        Ok(Ok200::Ok(Directo(respuesta(&grupo, &yo.actor.rut))))
    }

    /// A conversation's history as our page shows it: members, messages (kind, quote,
    /// reactions by emoji, delivery state of the caller's own), pins. `antes` and `limite`
    /// (1-100) page like `GET /api/chat/mensajes`.
    #[oai(path = "/conversaciones/:id/historial", method = "get")]
    async fn historial(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        antes: Query<Option<String>>,
        limite: Query<Option<String>>,
    ) -> Api<Ok200<HistorialJson>> {
        let h = yo
            .servicio
            .historial(&yo.actor, &id.0, antes.0.as_deref(), limite.0.as_deref())
            .await?;
        Ok(Ok200::Ok(Directo(HistorialJson::para(&h, &yo.actor.rut))))
    }

    /// Toggles one emoji of the caller on a message (several emoji per message, one of each per
    /// user).
    #[oai(path = "/mensajes/:id/reacciones", method = "post")]
    async fn reaccionar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        body: Json<AlternarReaccionBody>,
    ) -> Api<Ok200<ReaccionesRespuesta>> {
        let (mensaje, lista) = yo
            .servicio
            .alternar_reaccion(&yo.actor, &id.0, body.emoji.as_ref())
            .await?;
        Ok(Ok200::Ok(Directo(ReaccionesRespuesta {
            success: true,
            mensaje_id: mensaje.to_json(),
            reacciones: reacciones_para(&lista, &yo.actor.rut),
        })))
    }

    /// Pins a message (several per conversation, at most 20, in pin order).
    #[oai(path = "/mensajes/:id/fijado", method = "post")]
    async fn fijar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
    ) -> Api<Ok200<FijadosRespuesta>> {
        let (fijados, entregas) = yo.servicio.fijar_varios(&yo.actor, &id.0, true).await?;
        Ok(Ok200::Ok(Directo(fijados_para(
            &fijados,
            &entregas,
            &yo.actor.rut,
        ))))
    }

    /// Unpins a message.
    #[oai(path = "/mensajes/:id/fijado", method = "delete")]
    async fn desfijar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
    ) -> Api<Ok200<FijadosRespuesta>> {
        let (fijados, entregas) = yo.servicio.fijar_varios(&yo.actor, &id.0, false).await?;
        Ok(Ok200::Ok(Directo(fijados_para(
            &fijados,
            &entregas,
            &yo.actor.rut,
        ))))
    }

    /// Moves the caller's delivered marker forward to `mensaje_id` (else the newest message).
    #[oai(path = "/conversaciones/:id/entregado", method = "post")]
    async fn entregado(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        body: Json<EntregadoBody>,
    ) -> Api<Ok200<EntregadoRespuesta>> {
        let conversacion = serde_json::Value::String(id.0);
        let (_, marca) = yo
            .servicio
            .marcar_entregado(&yo.actor, Some(&conversacion), body.mensaje_id.as_ref())
            .await?;
        Ok(Ok200::Ok(Directo(EntregadoRespuesta::de(marca.as_ref()))))
    }
}

fn respuesta(grupo: &crate::dominio::Grupo, viewer: &str) -> GrupoRespuesta {
    GrupoRespuesta {
        success: true,
        grupo: GrupoJson::para(grupo, Some(viewer)),
    }
}

fn fijados_para(
    fijados: &[crate::dominio::Mensaje],
    entregas: &[crate::dominio::Entrega],
    viewer: &str,
) -> FijadosRespuesta {
    FijadosRespuesta {
        success: true,
        fijados: MensajePropio::lista(fijados, viewer, entregas),
    }
}
