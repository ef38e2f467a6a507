//! Attachments: who may upload and download (participants, checked on every request), the size
//! limit (enforced while streaming, never reading a whole file into memory), the type decided
//! by the bytes (magic numbers) against an allow-list, safe file names, and no leftovers: an
//! upload that fails leaves neither a message nor an object.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::archivos::{AlmacenArchivos, Lectura};
use super::{Actor, ChatService, ErrorChat, Resultado};
use crate::dominio::{Adjunto, Mensaje};
use crate::store::{NuevoAdjunto, NuevoMensaje};

/// Default largest attachment (10 MB).
pub const MAX_ADJUNTO_DEFECTO: u64 = 10 * 1024 * 1024;
/// Default allow-list of media types.
pub const TIPOS_DEFECTO: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "text/plain",
];
/// Longest stored file name, in characters.
const MAX_NOMBRE: usize = 120;
/// Bytes looked at to decide the type.
const CABECERA: usize = 512;
/// Largest side of a thumbnail, in pixels.
pub const LADO_MINIATURA: u32 = 320;

/// Attachment settings and storage.
pub struct Adjuntos {
    /// Where the bytes go.
    pub almacen: Arc<dyn AlmacenArchivos>,
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Media types accepted (as decided from the bytes).
    pub tipos: Vec<String>,
}

/// What a client sends besides the bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Subida<'a> {
    /// The conversation (a JSON value as the routes receive ids).
    pub conversacion: Option<&'a Value>,
    /// The file name the client gives (only shown; never a path on the server).
    pub nombre: Option<&'a str>,
    /// The type the client claims (`Content-Type`); refused when the bytes say otherwise.
    pub tipo_declarado: Option<&'a str>,
    /// Text sent with the file (optional).
    pub texto: Option<&'a str>,
}

/// A staging file removed when dropped (after a failure, or after being moved away).
struct Temporal(PathBuf);

impl Drop for Temporal {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh random key (32 hex digits).
fn clave_nueva() -> Resultado<String> {
    use rand::TryRngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "sin fuente de azar para la clave del adjunto");
        ErrorChat::Interno
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The media type of a file from its first bytes; `None` when unrecognised.
pub fn tipo_por_contenido(inicio: &[u8]) -> Option<&'static str> {
    let empieza = |firma: &[u8]| inicio.starts_with(firma);
    if empieza(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if empieza(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if empieza(b"GIF87a") || empieza(b"GIF89a") {
        Some("image/gif")
    } else if inicio.len() >= 12 && &inicio[..4] == b"RIFF" && &inicio[8..12] == b"WEBP" {
        Some("image/webp")
    } else if empieza(b"%PDF-") {
        Some("application/pdf")
    } else if empieza(b"PK\x03\x04") {
        Some("application/zip")
    } else if es_texto(inicio) {
        Some("text/plain")
    } else {
        None
    }
}

/// UTF-8 (a character cut at the end is fine) without control bytes other than tab and line
/// breaks.
fn es_texto(inicio: &[u8]) -> bool {
    let valido = match std::str::from_utf8(inicio) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && inicio.len() - e.valid_up_to() < 4,
    };
    !inicio.is_empty()
        && valido
        && inicio
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        && !inicio.contains(&0x7f)
}

/// The type a file name's extension claims, when it is one we recognise.
fn tipo_por_extension(nombre: &str) -> Option<&'static str> {
    let ext = nombre.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "txt" | "text" | "log" | "csv" | "md" => "text/plain",
        "svg" => "image/svg+xml",
        "html" | "htm" => "text/html",
        "js" | "mjs" => "text/javascript",
        "exe" => "application/x-msdownload",
        _ => return None,
    })
}

/// A file name safe to store and show: the last path segment, without control characters,
/// quotes or leading dots, at most [`MAX_NOMBRE`] characters; `"archivo"` when nothing is left.
pub fn nombre_seguro(nombre: Option<&str>) -> String {
    let base = nombre
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let limpio: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .take(MAX_NOMBRE)
        .collect();
    let limpio = limpio.trim().trim_start_matches('.').trim();
    if limpio.is_empty() {
        "archivo".to_owned()
    } else {
        limpio.to_owned()
    }
}

/// Whether a claimed type (a header or an extension) contradicts the decided one.
fn contradice(declarado: Option<&str>, real: &str) -> bool {
    let Some(d) = declarado else { return false };
    let d = d
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let generico = d.is_empty() || d == "application/octet-stream";
    let equivalente = d == real || (d == "image/jpg" && real == "image/jpeg");
    !generico && !equivalente
}

impl ChatService {
    /// Stores a file from the actor in a conversation they participate in, with a message that
    /// carries it (its text, or the file name). The body is streamed to a staging file and
    /// refused (413) as soon as it passes the limit (a larger declared `Content-Length` is
    /// refused by the HTTP layer before any byte is read); its type comes from its first bytes (415
    /// when not allowed, or when the name or `Content-Type` claim another type). Nothing is
    /// left behind when anything fails.
    pub async fn subir_adjunto(
        &self,
        actor: &Actor,
        subida: Subida<'_>,
        cuerpo: impl AsyncRead + Unpin + Send,
    ) -> Resultado<(Mensaje, Adjunto)> {
        self.limitar(actor)?;
        let ajustes = self.adjuntos.as_ref().ok_or(ErrorChat::NoDisponible)?;
        let (conversacion, miembros) = self.miembros(actor, subida.conversacion).await?;
        let nombre = nombre_seguro(subida.nombre);
        let texto = subida.texto.map(str::trim).filter(|t| !t.is_empty());
        if texto.is_some_and(|t| t.chars().count() > self.limites.max_caracteres) {
            return Err(ErrorChat::DemasiadoLargo);
        }
        if texto.is_some_and(|t| t.contains('\0')) {
            return Err(ErrorChat::Invalido("Datos inválidos"));
        }
        let clave = clave_nueva()?;
        let temporal = Temporal(ajustes.almacen.temporal().join(&clave));
        let (tipo, tamano) = recibir(ajustes, &temporal, cuerpo).await?;
        if contradice(subida.tipo_declarado, tipo)
            || tipo_por_extension(&nombre).is_some_and(|t| t != tipo)
        {
            return Err(ErrorChat::TipoNoPermitido);
        }
        let miniatura = match miniatura(&temporal.0, tipo).await {
            Some(png) => Some(guardar_miniatura(ajustes, png).await?),
            None => None,
        };
        if let Err(e) = ajustes
            .almacen
            .guardar(&clave, &temporal.0, tamano, tipo)
            .await
        {
            tracing::error!(error = %e, "no se pudo guardar el adjunto");
            borrar(ajustes, miniatura.as_deref()).await;
            return Err(ErrorChat::NoDisponible);
        }
        let contenido = texto.map(str::to_owned).unwrap_or_else(|| nombre.clone());
        let guardado = self
            .store
            .insertar_con_adjunto(
                NuevoMensaje {
                    conversacion: &conversacion,
                    autor: &actor.rut,
                    contenido: &contenido,
                    clave: None,
                    responde_a: None,
                    participantes: Some(&miembros),
                },
                NuevoAdjunto {
                    nombre: &nombre,
                    tipo,
                    tamano: tamano as i64,
                    clave: &clave,
                    miniatura: miniatura.as_deref(),
                },
            )
            .await;
        let (mensaje, adjunto) = match guardado {
            Ok(hecho) => hecho,
            Err(e) => {
                borrar(ajustes, Some(&clave)).await;
                borrar(ajustes, miniatura.as_deref()).await;
                return Err(e.into());
            }
        };
        tracing::info!(adjunto = adjunto.id, mensaje = %mensaje.id, conversacion = %conversacion, usuario = %actor.rut, tamano, tipo, "adjunto subido");
        self.tiempo_real.mensaje_nuevo(&mensaje, &miembros).await;
        Ok((mensaje, adjunto))
    }

    /// An attachment and its bytes (or its thumbnail's, a PNG, with `miniatura`), for a
    /// participant of its conversation now (404 when missing, when its message was deleted or
    /// when it has no thumbnail; 403 for others).
    pub async fn descargar_adjunto(
        &self,
        actor: &Actor,
        id: &str,
        miniatura: bool,
    ) -> Resultado<(Adjunto, Lectura)> {
        self.limitar(actor)?;
        let ajustes = self.adjuntos.as_ref().ok_or(ErrorChat::NoDisponible)?;
        let id = id
            .trim()
            .parse::<i64>()
            .map_err(|_| ErrorChat::AdjuntoNoEncontrado)?;
        let (adjunto, participa) = self
            .store
            .adjunto(id, &actor.rut)
            .await?
            .ok_or(ErrorChat::AdjuntoNoEncontrado)?;
        if !participa {
            return Err(ErrorChat::SinAccesoMensaje);
        }
        let clave = if miniatura {
            adjunto
                .miniatura
                .clone()
                .ok_or(ErrorChat::AdjuntoNoEncontrado)?
        } else {
            adjunto.clave.clone()
        };
        let lectura = ajustes.almacen.abrir(&clave).await.map_err(|e| {
            tracing::error!(error = %e, adjunto = adjunto.id, "no se pudo leer el adjunto");
            ErrorChat::NoDisponible
        })?;
        match lectura {
            Some(l) => Ok((adjunto, l)),
            None => {
                tracing::warn!(adjunto = adjunto.id, "objeto del adjunto ausente");
                Err(ErrorChat::AdjuntoNoEncontrado)
            }
        }
    }

    /// The attachments of a conversation the actor participates in.
    pub async fn adjuntos(&self, actor: &Actor, conversacion: &str) -> Resultado<Vec<Adjunto>> {
        self.limitar(actor)?;
        let id = self
            .autorizar(actor, Some(&Value::String(conversacion.to_owned())))
            .await?;
        Ok(self.store.adjuntos(&id).await?)
    }
}

/// Removes an object after a failed upload (logged when that fails too).
async fn borrar(ajustes: &Adjuntos, clave: Option<&str>) {
    if let Some(clave) = clave
        && let Err(e) = ajustes.almacen.borrar(clave).await
    {
        tracing::error!(error = %e, "no se pudo borrar el objeto de una subida fallida");
    }
}

/// Stores a thumbnail under a fresh key; returns the key.
async fn guardar_miniatura(ajustes: &Adjuntos, png: Vec<u8>) -> Resultado<String> {
    let clave = clave_nueva()?;
    let temporal = Temporal(ajustes.almacen.temporal().join(&clave));
    let fallo = |e: std::io::Error| {
        tracing::error!(error = %e, "no se pudo guardar la miniatura");
        ErrorChat::NoDisponible
    };
    tokio::fs::write(&temporal.0, &png).await.map_err(fallo)?;
    ajustes
        .almacen
        .guardar(&clave, &temporal.0, png.len() as u64, "image/png")
        .await
        .map_err(fallo)?;
    Ok(clave)
}

/// A PNG thumbnail (at most [`LADO_MINIATURA`] pixels a side) of a PNG or JPEG file, decoded
/// off the async threads with bounded dimensions and memory; `None` for other types, for
/// images that do not decode, and in builds without the `miniaturas` feature.
#[cfg(feature = "miniaturas")]
async fn miniatura(ruta: &std::path::Path, tipo: &str) -> Option<Vec<u8>> {
    use image::ImageFormat;
    let formato = match tipo {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        _ => return None,
    };
    let ruta = ruta.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut lector = image::ImageReader::open(&ruta).ok()?;
        lector.set_format(formato);
        let mut limites = image::Limits::default();
        limites.max_image_width = Some(12_000);
        limites.max_image_height = Some(12_000);
        limites.max_alloc = Some(256 * 1024 * 1024);
        lector.limits(limites);
        let mut imagen = lector.decode().ok()?;
        // Only ever smaller (thumbnail() would enlarge a small image).
        if imagen.width() > LADO_MINIATURA || imagen.height() > LADO_MINIATURA {
            imagen = imagen.thumbnail(LADO_MINIATURA, LADO_MINIATURA);
        }
        let mut png = std::io::Cursor::new(Vec::new());
        imagen.write_to(&mut png, ImageFormat::Png).ok()?;
        Some(png.into_inner())
    })
    .await
    .ok()
    .flatten()
}

/// Without the `miniaturas` feature there are no thumbnails.
#[cfg(not(feature = "miniaturas"))]
async fn miniatura(_ruta: &std::path::Path, _tipo: &str) -> Option<Vec<u8>> {
    None
}

/// Streams the body to the staging file, deciding the type from the first bytes and stopping
/// as soon as the type is refused or the size passes the limit.
async fn recibir(
    ajustes: &Adjuntos,
    temporal: &Temporal,
    mut cuerpo: impl AsyncRead + Unpin + Send,
) -> Resultado<(&'static str, u64)> {
    let fallo_disco = |e: std::io::Error| {
        tracing::error!(error = %e, "no se pudo escribir el archivo temporal");
        ErrorChat::NoDisponible
    };
    let leer_mal = |_| ErrorChat::Invalido("Datos inválidos");
    let mut inicio = Vec::with_capacity(CABECERA);
    while inicio.len() < CABECERA {
        let mut trozo = [0u8; CABECERA];
        let n = cuerpo
            .read(&mut trozo[..CABECERA - inicio.len()])
            .await
            .map_err(leer_mal)?;
        if n == 0 {
            break;
        }
        inicio.extend_from_slice(&trozo[..n]);
    }
    if inicio.is_empty() {
        return Err(ErrorChat::Invalido("Archivo vacío"));
    }
    let tipo = tipo_por_contenido(&inicio)
        .filter(|t| ajustes.tipos.iter().any(|p| p == t))
        .ok_or(ErrorChat::TipoNoPermitido)?;
    let mut archivo = tokio::fs::File::create(&temporal.0)
        .await
        .map_err(fallo_disco)?;
    archivo.write_all(&inicio).await.map_err(fallo_disco)?;
    let mut tamano = inicio.len() as u64;
    let mut trozo = vec![0u8; 64 * 1024];
    loop {
        let n = cuerpo.read(&mut trozo).await.map_err(leer_mal)?;
        if n == 0 {
            break;
        }
        tamano += n as u64;
        if tamano > ajustes.max_bytes {
            return Err(ErrorChat::ArchivoGrande);
        }
        archivo.write_all(&trozo[..n]).await.map_err(fallo_disco)?;
    }
    archivo.flush().await.map_err(fallo_disco)?;
    archivo.sync_all().await.map_err(fallo_disco)?;
    Ok((tipo, tamano))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_comes_from_the_bytes() {
        assert_eq!(
            tipo_por_contenido(b"\x89PNG\r\n\x1a\nrest"),
            Some("image/png")
        );
        assert_eq!(tipo_por_contenido(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(tipo_por_contenido(b"GIF89a.."), Some("image/gif"));
        assert_eq!(
            tipo_por_contenido(b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(tipo_por_contenido(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(
            tipo_por_contenido("hola, canción\n".as_bytes()),
            Some("text/plain")
        );
        assert_eq!(tipo_por_contenido(b"MZ\x90\0\x03\0"), None);
        assert_eq!(tipo_por_contenido(b"<svg\0"), None);
    }

    #[test]
    fn names_lose_paths_and_dangerous_characters() {
        assert_eq!(nombre_seguro(Some("../../etc/passwd")), "passwd");
        assert_eq!(nombre_seguro(Some("..\\..\\win.ini")), "win.ini");
        assert_eq!(nombre_seguro(Some("a\"b\r\n.png")), "ab.png");
        assert_eq!(nombre_seguro(Some("..")), "archivo");
        assert_eq!(nombre_seguro(None), "archivo");
        assert_eq!(
            nombre_seguro(Some(&"x".repeat(500))).chars().count(),
            MAX_NOMBRE
        );
    }

    #[cfg(feature = "miniaturas")]
    #[tokio::test]
    async fn thumbnails_shrink_large_images_only_and_skip_undecodable_ones() {
        let dir = std::env::temp_dir().join(format!("wc-miniatura-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let grande = dir.join("grande.png");
        image::RgbImage::new(1000, 500).save(&grande).unwrap();
        let png = miniatura(&grande, "image/png").await.unwrap();
        let hecha = image::load_from_memory(&png).unwrap();
        assert_eq!((hecha.width(), hecha.height()), (LADO_MINIATURA, 160));
        let falsa = dir.join("falsa.png");
        std::fs::write(&falsa, b"\x89PNG\r\n\x1a\nbasura").unwrap();
        assert!(miniatura(&falsa, "image/png").await.is_none());
        assert!(miniatura(&grande, "application/pdf").await.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn claimed_types_must_agree_with_the_bytes() {
        assert!(!contradice(None, "image/png"));
        assert!(!contradice(Some("application/octet-stream"), "image/png"));
        assert!(!contradice(Some("image/jpg"), "image/jpeg"));
        assert!(contradice(Some("image/png"), "application/pdf"));
        assert_eq!(tipo_por_extension("foto.PNG"), Some("image/png"));
        assert_eq!(tipo_por_extension("sin_extension"), None);
    }
}
