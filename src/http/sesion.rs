//! Reading and writing the Flask session cookie over HTTP, and the `Autenticado` extractor
//! that makes every API operation require a signed-in user (401 before anything else runs).

use std::marker::PhantomData;
use std::sync::Arc;

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use super::Estado;
use super::errores::RespuestaError;
use crate::config::Generaciones;
use crate::service::{Actor, ChatService, ErrorChat};
use crate::session::Session;

/// Name of the security scheme in the OpenAPI document.
const ESQUEMA: &str = "sesion_flask";

/// The request's session, when its cookie is present and valid.
pub fn sesion_de(req: &Request, estado: &Estado) -> Option<Session> {
    estado
        .codec
        .desde_cabeceras(req.headers(), &estado.cookie.lectura)
}

/// Cookie attributes from the settings.
#[derive(Clone, Debug)]
pub struct AjustesCookie {
    /// Name of the cookie we set (`session` by default).
    pub nombre: String,
    /// Names of the cookie we read, in order (`session` and `weigence_session` by default).
    pub lectura: Vec<String>,
    /// Add `Secure`.
    pub segura: bool,
}

impl AjustesCookie {
    /// `Set-Cookie` value for a session: `Expires` only for permanent sessions, as Flask does.
    pub fn emitir(
        &self,
        valor: &str,
        permanente_hasta: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        let mut cookie = format!("{}={valor}; HttpOnly; Path=/; SameSite=Lax", self.nombre);
        if let Some(hasta) = permanente_hasta {
            cookie.push_str(&format!(
                "; Expires={}",
                hasta.format("%a, %d %b %Y %H:%M:%S GMT")
            ));
        }
        if self.segura {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// `Set-Cookie` value that deletes the session cookie.
    pub fn borrar(&self) -> String {
        let mut cookie = format!(
            "{}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax",
            self.nombre
        );
        if self.segura {
            cookie.push_str("; Secure");
        }
        cookie
    }
}

/// The API generation a route belongs to: its routes answer 404 when it is switched off.
pub trait Generacion: Send + Sync + 'static {
    /// Whether the route is served with these settings.
    fn servida(g: &Generaciones) -> bool;
}

/// v1 routes (CONTRACT.md).
pub struct V1;
/// v2 routes (CONTRACT-v2.md).
pub struct V2;
/// Paths both generations share: served while either is on.
pub struct Ambas;

impl Generacion for V1 {
    fn servida(g: &Generaciones) -> bool {
        g.v1
    }
}

impl Generacion for V2 {
    fn servida(g: &Generaciones) -> bool {
        g.v2
    }
}

impl Generacion for Ambas {
    fn servida(g: &Generaciones) -> bool {
        g.v1 || g.v2
    }
}

/// The signed-in user of an API request of generation `G`, with the service to act through;
/// extraction fails with 404 when `G` is switched off, then with 401 without a valid session.
pub struct Autenticado<G: Generacion = V1> {
    /// Who is calling.
    pub actor: Actor,
    /// The service every operation goes through.
    pub servicio: Arc<ChatService>,
    /// The generations served (shared paths answer with each one's keys).
    pub generaciones: Generaciones,
    generacion: PhantomData<G>,
}

impl<'a, G: Generacion> ApiExtractor<'a> for Autenticado<G> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            ESQUEMA,
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(
                    "Flask session cookie (SESSION_COOKIE_NAME; by default `session` or `weigence_session`)",
                ),
                name: Some("session"),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![ESQUEMA]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _opts: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let estado = req
            .data::<Arc<Estado>>()
            .expect("Estado is attached to every route");
        if !G::servida(&estado.generaciones) {
            return Err(RespuestaError::NoEncontrado(super::errores::cuerpo(
                "Recurso no encontrado",
            ))
            .into());
        }
        let sesion = sesion_de(req, estado);
        estado
            .servicio
            .actor(sesion.as_ref())
            .map(|actor| Autenticado {
                actor,
                servicio: estado.servicio.clone(),
                generaciones: estado.generaciones,
                generacion: PhantomData,
            })
            .map_err(|e: ErrorChat| RespuestaError::from(e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_cookies_carry_the_contract_attributes() {
        let ajustes = AjustesCookie {
            nombre: "session".into(),
            lectura: vec!["session".into()],
            segura: true,
        };
        let hasta = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap();
        let c = ajustes.emitir("v", Some(hasta));
        assert_eq!(
            c,
            "session=v; HttpOnly; Path=/; SameSite=Lax; Expires=Mon, 24 Nov 2025 16:00:00 GMT; Secure"
        );
        assert!(
            !AjustesCookie {
                nombre: "s".into(),
                lectura: vec!["s".into()],
                segura: false
            }
            .emitir("v", None)
            .contains("Expires")
        );
        assert!(ajustes.borrar().contains("Max-Age=0"));
    }
}
