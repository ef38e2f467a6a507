//! The HTML side: login form, logout, the chat page (CONTRACT.md §3, §7) and the health check.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Form, Html, Json};
use poem::{IntoResponse, Request, Response, handler};
use rand::{RngCore, SeedableRng};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Estado;
use super::sesion::sesion_de;
use crate::session::Session;

const PAGINA_LOGIN: &str = include_str!("paginas/login.html");
const PAGINA_CHAT: &str = include_str!("paginas/chat.html");
/// Shown for every failed login, whether or not the account exists.
const ERROR_LOGIN: &str = "Usuario o contraseña incorrectos";

/// Fields of the login form.
#[derive(Deserialize, Default)]
pub struct FormularioLogin {
    #[serde(default)]
    usuario: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    remember: Option<String>,
}

/// `GET /`: the login form, or straight to the chat when already signed in.
#[handler]
pub fn login_form(req: &Request, estado: Data<&Arc<Estado>>) -> Response {
    if sesion_de(req, &estado)
        .and_then(|s| s.usuario_id())
        .is_some()
    {
        return redirigir("/chat");
    }
    Html(PAGINA_LOGIN.replace("{{error}}", "")).into_response()
}

/// `POST /`: checks the credentials; on success sets the Flask session keys and redirects (302)
/// to `/chat`, otherwise re-renders the form with one generic message.
#[handler]
pub async fn login(
    req: &Request,
    estado: Data<&Arc<Estado>>,
    form: poem::Result<Form<FormularioLogin>>,
) -> Response {
    let Form(form) = form.unwrap_or_else(|_| Form(FormularioLogin::default()));
    let origen = super::ip_cliente(req, estado.confiar_forwarded);
    let usuario = match estado
        .servicio
        .login(&form.usuario, &form.password, origen)
        .await
    {
        Ok(Some(usuario)) => usuario,
        Ok(None) => return pagina_con_error(StatusCode::OK, ERROR_LOGIN),
        Err(e) => {
            let texto = e.to_string();
            let respuesta = super::errores::RespuestaError::from(e).into_response();
            let mut pagina = pagina_con_error(respuesta.status(), &texto);
            if let Some(espera) = respuesta.headers().get("retry-after") {
                pagina.headers_mut().insert("retry-after", espera.clone());
            }
            return pagina;
        }
    };
    let recordar = form.remember.as_deref() == Some("on");
    let mut sesion = sesion_de(req, &estado).unwrap_or_default();
    for (clave, valor) in [
        ("usuario_logueado", json!(true)),
        ("usuario_nombre", json!(usuario.nombre)),
        ("usuario_rol", json!(usuario.rol.to_lowercase())),
        ("usuario_id", json!(usuario.rut)),
        ("usuario_correo", json!(usuario.correo)),
        ("recordarme_activado", json!(recordar)),
        ("_permanent", json!(recordar)),
    ] {
        sesion.set(clave, valor);
    }
    tracing::info!(usuario = %usuario.rut, "inicio de sesión");
    redirigir("/chat")
        .with_header("set-cookie", emitir_cookie(&estado, &sesion))
        .into_response()
}

/// `GET /logout`: clears the session and goes back to the login form.
#[handler]
pub fn logout(estado: Data<&Arc<Estado>>) -> Response {
    redirigir("/")
        .with_header("set-cookie", estado.cookie.borrar())
        .into_response()
}

/// `GET /chat`: the chat page for the signed-in user, or 302 to `/`.
#[handler]
pub fn chat(req: &Request, estado: Data<&Arc<Estado>>) -> Response {
    let Some(sesion) = sesion_de(req, &estado) else {
        return redirigir("/");
    };
    let Some(rut) = sesion.usuario_id() else {
        return redirigir("/");
    };
    let nombre = match sesion.get("usuario_nombre") {
        Some(Value::String(n)) => n,
        _ => String::new(),
    };
    let mut token = [0u8; 16];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut token);
    let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
    let pagina = PAGINA_CHAT
        .replace("{{usuario_id}}", &escapar_html(&rut))
        .replace("{{usuario_nombre}}", &escapar_html(&nombre))
        .replace("{{csrf_token}}", &token);
    Html(pagina)
        .with_header("cache-control", "no-store")
        .into_response()
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
#[handler]
pub async fn healthz(estado: Data<&Arc<Estado>>) -> Response {
    if estado.servicio.saludable().await {
        Json(json!({"status": "ok"})).into_response()
    } else {
        Json(json!({"status": "unavailable"}))
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .into_response()
    }
}

/// A 302 redirect, as Flask's `redirect()` answers.
fn redirigir(destino: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", destino)
        .finish()
}

fn pagina_con_error(status: StatusCode, texto: &str) -> Response {
    Html(PAGINA_LOGIN.replace("{{error}}", &escapar_html(texto)))
        .with_status(status)
        .into_response()
}

fn emitir_cookie(estado: &Estado, sesion: &Session) -> String {
    let ahora = chrono::Utc::now();
    let valor = estado.codec.encode(sesion, ahora.timestamp());
    let hasta = sesion.is_permanent().then(|| {
        ahora
            + chrono::Duration::from_std(estado.codec.max_age())
                .unwrap_or(chrono::Duration::days(30))
    });
    estado.cookie.emitir(&valor, hasta)
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escapar_html(texto: &str) -> String {
    let mut salida = String::with_capacity(texto.len());
    for c in texto.chars() {
        match c {
            '&' => salida.push_str("&amp;"),
            '<' => salida.push_str("&lt;"),
            '>' => salida.push_str("&gt;"),
            '"' => salida.push_str("&quot;"),
            '\'' => salida.push_str("&#x27;"),
            c => salida.push(c),
        }
    }
    salida
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escapar_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }

    #[test]
    fn pages_have_their_placeholders_and_the_contract_ids() {
        assert!(PAGINA_LOGIN.contains("{{error}}"));
        for placeholder in ["{{usuario_id}}", "{{csrf_token}}"] {
            assert!(PAGINA_CHAT.contains(placeholder), "{placeholder}");
        }
        for id in [
            "lista-conversaciones",
            "area-conversacion",
            "sin-conversacion",
            "mensajes-contenedor",
            "chat-nombre",
            "chat-info",
            "chat-avatar",
            "input-mensaje",
            "form-enviar-mensaje",
            "btn-nuevo-chat",
            "modal-nuevo-chat",
            "cerrar-modal",
            "modal-backdrop",
            "lista-usuarios",
            "buscar-usuario",
            "buscar-conversacion",
        ] {
            assert!(PAGINA_CHAT.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(PAGINA_CHAT.contains(r#"<meta name="csrf-token" content="{{csrf_token}}">"#));
        assert!(PAGINA_CHAT.contains(r#"data-usuario-id="{{usuario_id}}""#));
        assert!(PAGINA_CHAT.contains("/static/js/chat.js"));
    }

    #[test]
    fn the_page_serves_any_chat_js_without_our_static_folder() {
        // Enter submits #form-enviar-mensaje (implicit submission of a one-line field), as on
        // the original page; our chat.js turns it into a textarea itself.
        assert!(PAGINA_CHAT.contains(r#"<input type="text" id="input-mensaje""#));
        // «hidden» hides without css/chat.css (STATIC_DIR at Flask's static folder).
        assert!(PAGINA_CHAT.contains(".hidden { display: none !important; }"));
    }
}
