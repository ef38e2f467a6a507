//! Our own API (not in either Weigence generation): message search, attachments and
//! per-conversation mute. Each operation only translates between HTTP and the service; every
//! rule (membership on every request, limits, types) lives in
//! [`ChatService`](crate::service::ChatService).

use poem::{Body, IntoResponse, Response};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::Value;

use super::api::{Api, Directo, Etiqueta, Ok200};
use super::sesion::{Ambas, Autenticado};
use crate::contrato::propia::*;
use crate::service::Subida;

/// The bytes of a download, streamed; documented as any media type (the type decided at upload
/// is in `Content-Type`).
pub struct Bytes(Body);

impl Payload for Bytes {
    const CONTENT_TYPE: &'static str = "*/*";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format: Some("binary"),
            ..MetaSchema::new("string")
        }))
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        Response::builder().body(self.0)
    }
}

/// A download: the bytes, streamed, with their real type and safe headers.
#[derive(ApiResponse)]
pub enum Descarga {
    /// The file.
    #[oai(status = 200)]
    Archivo(
        Bytes,
        /// The type decided from the bytes at upload.
        #[oai(header = "Content-Type")]
        String,
        /// `attachment` with the sanitized file name.
        #[oai(header = "Content-Disposition")]
        String,
        /// Always `nosniff`.
        #[oai(header = "X-Content-Type-Options")]
        String,
        /// Size in bytes (the file's; thumbnails are sent chunked).
        #[oai(header = "Content-Length")]
        Option<i64>,
        /// Private: members only, revalidated on every request.
        #[oai(header = "Cache-Control")]
        String,
    ),
}

/// Upload answers.
#[derive(ApiResponse)]
pub enum Subido {
    /// Stored, with the message that carries it.
    #[oai(status = 201)]
    Creado(Directo<AdjuntoSubido>),
}

/// `Content-Disposition: attachment` with an ASCII fallback and the UTF-8 name (RFC 6266).
fn disposicion(nombre: &str) -> String {
    let ascii: String = nombre
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let codificado: String = nombre
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{codificado}")
}

/// Search, attachments and mute.
pub struct PropiaApi;

#[OpenApi(prefix_path = "/chat", tag = "Etiqueta::Propia")]
impl PropiaApi {
    /// Full-text search (Spanish stemming, accents ignored) over the messages the caller may
    /// read now, best first, with an excerpt whose matched words are marked. `q` is plain
    /// text (quotes for phrases, `-` to exclude, `or`); `conversacion_id` limits it to one
    /// conversation; `desde` and `limite` (1-50, default 20) page.
    #[oai(path = "/buscar", method = "get")]
    async fn buscar(
        &self,
        yo: Autenticado<Ambas>,
        q: Query<Option<String>>,
        conversacion_id: Query<Option<String>>,
        desde: Query<Option<String>>,
        limite: Query<Option<String>>,
    ) -> Api<Ok200<Resultados>> {
        let pagina = yo
            .servicio
            .buscar(
                &yo.actor,
                q.0.as_deref(),
                conversacion_id.0.as_deref(),
                desde.0.as_deref(),
                limite.0.as_deref(),
            )
            .await?;
        Ok(Ok200::Ok(Directo(Resultados::from(&pagina))))
    }

    /// Uploads a file (the raw body, any `Content-Type`) to a conversation of the caller, with
    /// a message that carries it (`texto`, or the file name). The type is decided from the
    /// bytes against the allow-list (415, also when `Content-Type` or the name's extension
    /// claim another); larger than `MAX_UPLOAD_BYTES` is refused (413) without reading it all.
    #[oai(path = "/conversaciones/:id/adjuntos", method = "post")]
    async fn subir(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        nombre: Query<Option<String>>,
        texto: Query<Option<String>>,
        #[oai(name = "Content-Type")] tipo: Header<Option<String>>,
        cuerpo: Binary<Body>,
    ) -> Api<Subido> {
        let conversacion = Value::String(id.0);
        let subida = Subida {
            conversacion: Some(&conversacion),
            nombre: nombre.0.as_deref(),
            tipo_declarado: tipo.0.as_deref(),
            texto: texto.0.as_deref(),
        };
        let lector = cuerpo.0.into_async_read();
        let (mensaje, adjunto) = yo
            .servicio
            .subir_adjunto(&yo.actor, subida, Box::pin(lector))
            .await?;
        Ok(Subido::Creado(Directo(AdjuntoSubido::para(
            &mensaje,
            &adjunto,
            &yo.actor.rut,
        ))))
    }

    /// The attachments of a conversation of the caller, oldest first.
    #[oai(path = "/conversaciones/:id/adjuntos", method = "get")]
    async fn adjuntos(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
    ) -> Api<Ok200<ListaAdjuntos>> {
        let lista = yo.servicio.adjuntos(&yo.actor, &id.0).await?;
        Ok(Ok200::Ok(Directo(ListaAdjuntos {
            success: true,
            adjuntos: lista.iter().map(AdjuntoJson::from).collect(),
        })))
    }

    /// Downloads an attachment: members of its conversation only, checked on every request;
    /// streamed, with `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`.
    #[oai(path = "/adjuntos/:id", method = "get")]
    async fn descargar(&self, yo: Autenticado<Ambas>, id: Path<String>) -> Api<Descarga> {
        let (adjunto, lectura) = yo
            .servicio
            .descargar_adjunto(&yo.actor, &id.0, false)
            .await?;
        Ok(Descarga::Archivo(
            Bytes(Body::from_async_read(lectura)),
            adjunto.tipo.clone(),
            disposicion(&adjunto.nombre),
            "nosniff".into(),
            Some(adjunto.tamano),
            "private, no-store".into(),
        ))
    }

    /// An image attachment's thumbnail (PNG, at most 320 px a side), with the same checks and
    /// headers as the download; 404 when it has none.
    #[oai(path = "/adjuntos/:id/miniatura", method = "get")]
    async fn miniatura(&self, yo: Autenticado<Ambas>, id: Path<String>) -> Api<Descarga> {
        let (adjunto, lectura) = yo
            .servicio
            .descargar_adjunto(&yo.actor, &id.0, true)
            .await?;
        Ok(Descarga::Archivo(
            Bytes(Body::from_async_read(lectura)),
            "image/png".into(),
            disposicion(&format!("miniatura-{}.png", adjunto.id)),
            "nosniff".into(),
            None,
            "private, no-store".into(),
        ))
    }

    /// The conversations the caller has muted (no notifications, no badge).
    #[oai(path = "/silencios", method = "get")]
    async fn silencios(&self, yo: Autenticado<Ambas>) -> Api<Ok200<Silenciadas>> {
        let ids = yo.servicio.silenciadas(&yo.actor).await?;
        Ok(Ok200::Ok(Directo(Silenciadas::de(&ids))))
    }

    /// Mutes or unmutes a conversation of the caller; answers the muted list.
    #[oai(path = "/conversaciones/:id/silencio", method = "put")]
    async fn silenciar(
        &self,
        yo: Autenticado<Ambas>,
        id: Path<String>,
        body: Json<SilencioBody>,
    ) -> Api<Ok200<Silenciadas>> {
        let ids = yo
            .servicio
            .silenciar(&yo.actor, &id.0, body.silenciado)
            .await?;
        Ok(Ok200::Ok(Directo(Silenciadas::de(&ids))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_has_an_ascii_fallback_and_the_utf8_name() {
        assert_eq!(
            disposicion("canción \"x\".pdf"),
            "attachment; filename=\"canci_n _x_.pdf\"; filename*=UTF-8''canci%C3%B3n%20%22x%22.pdf"
        );
    }
}
