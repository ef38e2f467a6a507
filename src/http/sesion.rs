//! Reading and writing the Flask session cookie over HTTP, and the `Autenticado` extractor
//! that makes every API operation require a signed-in user (401 before anything else runs).

use std::sync::Arc;

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use super::Estado;
use super::errores::RespuestaError;
use crate::service::{Actor, ChatService};
use crate::session::Session;

/// Name of the security scheme in the OpenAPI document.
const ESQUEMA: &str = "sesion_flask";

/// The request's session, when its cookie is present and valid.
pub fn sesion_de(req: &Request, estado: &Estado) -> Option<Session> {
    estado
        .codec
        .desde_cabeceras(req.headers(), &estado.cookie.nombre)
}

/// Cookie attributes from the settings.
#[derive(Clone, Debug)]
pub struct AjustesCookie {
    /// Cookie name (`session` by default).
    pub nombre: String,
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

/// The signed-in user of an API request, with the service to act through; extraction fails
/// with 401 otherwise.
pub struct Autenticado {
    /// Who is calling.
    pub actor: Actor,
    /// The service every operation goes through.
    pub servicio: Arc<ChatService>,
}

impl<'a> ApiExtractor<'a> for Autenticado {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            ESQUEMA,
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(
                    "Flask session cookie (name set by SESSION_COOKIE_NAME, `session` by default)",
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
        let sesion = sesion_de(req, estado);
        estado
            .servicio
            .actor(sesion.as_ref())
            .map(|actor| Autenticado {
                actor,
                servicio: estado.servicio.clone(),
            })
            .map_err(|e| RespuestaError::from(e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_cookies_carry_the_contract_attributes() {
        let ajustes = AjustesCookie {
            nombre: "session".into(),
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
                segura: false
            }
            .emitir("v", None)
            .contains("Expires")
        );
        assert!(ajustes.borrar().contains("Max-Age=0"));
    }
}
