//! weigence-chat: the Weigence chat backend (REST + Flask sessions) in Rust. `main.rs` only
//! parses the command line; [`Application`] builds and runs the server.

pub mod config;
pub mod contrato;
pub mod doctor;
pub mod dominio;
pub mod http;
pub mod operacion;
pub mod realtime;
pub mod service;
pub mod session;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Server};

use config::Settings;
use engineioxide::service::NotFoundService;
use futures_util::future::BoxFuture;
use poem::endpoint::BoxEndpoint;
use service::limites::Limitador;
use service::{ChatService, Limites};
use session::SessionCodec;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::service::SocketIoService;
use socketioxide_redis::{RedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use store::ChatStore;

/// How long in-flight requests may run after a shutdown signal.
const GRACIA_APAGADO: Duration = Duration::from_secs(8);

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be reached or its tables are not usable.
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    /// A setting the server could only check by using it (a refused `SUPABASE_KEY`).
    #[error("configuration error: {0}")]
    Config(String),
    /// Redis (for several instances) could not be reached.
    #[error("redis: {0}")]
    Redis(String),
    /// The attachment storage could not be set up (folder or S3 settings).
    #[error("attachments: {0}")]
    Adjuntos(String),
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

/// Builds the service and the routes around a Socket.IO server of any adapter; returns the
/// context its event handlers need (registered by the caller, which knows the adapter).
fn ensamblar<A: Adapter>(
    settings: &Settings,
    store: Arc<dyn ChatStore>,
    almacen: Arc<dyn service::archivos::AlmacenArchivos>,
    svc: SocketIoService<NotFoundService, A>,
    io: SocketIo<A>,
) -> (Arc<realtime::Contexto>, BoxEndpoint<'static>) {
    let servicio = Arc::new(
        ChatService::new(
            store,
            Arc::new(realtime::EmisorSocketIo::new(io, settings.generaciones)),
            Limites {
                max_caracteres: settings.max_message_chars,
                por_minuto: settings.rate_limit_per_minute,
                rafaga: settings.rate_limit_burst,
                permitir_password_plano: settings.allow_plaintext_passwords,
                intentos_login_por_minuto: settings.login_attempts_per_minute,
                ventana_edicion: settings.edit_window,
            },
        )
        .con_adjuntos(service::Adjuntos {
            almacen,
            max_bytes: settings.max_upload_bytes,
            tipos: settings.upload_types.clone(),
        }),
    );
    let codec = SessionCodec::new(
        &settings.secret_key,
        &settings.secret_key_fallbacks,
        settings.session_lifetime,
    );
    let contexto = Arc::new(realtime::Contexto {
        servicio: servicio.clone(),
        codec: codec.clone(),
        cookies: settings.session_cookie_names.clone(),
        generaciones: settings.generaciones,
        max_sockets_por_usuario: settings.max_sockets_per_user.max(1),
    });
    let origenes = Arc::new(settings.allowed_origins.clone());
    let puente = realtime::puente::PuenteSocketIo::new(
        svc,
        origenes.clone(),
        Limitador::new(settings.handshakes_per_minute, settings.handshake_burst),
        settings.trust_forwarded_for,
    );
    let estado = Arc::new(http::Estado {
        servicio,
        codec,
        cookie: http::sesion::AjustesCookie {
            nombre: settings.session_cookie_name.clone(),
            lectura: settings.session_cookie_names.clone(),
            segura: settings.session_cookie_secure,
        },
        origenes,
        max_cuerpo: settings.max_body_bytes,
        max_subida: settings.max_upload_bytes,
        confiar_forwarded: settings.trust_forwarded_for,
        generaciones: settings.generaciones,
    });
    (
        contexto,
        http::rutas(estado, &settings.static_dir, puente).boxed(),
    )
}

/// A bound, ready-to-serve instance.
pub struct Application {
    acceptor: TcpAcceptor,
    direccion: SocketAddr,
    rutas: BoxEndpoint<'static>,
    cerrar_sockets: CierreSockets,
    metricas: Option<ServidorMetricas>,
}

/// The metrics listener (`METRICS_ADDR`) and its endpoint.
struct ServidorMetricas {
    acceptor: TcpAcceptor,
    direccion: SocketAddr,
    punto: operacion::PuntoMetricas,
}

/// Binds `direccion` (port 0 picks a free port) and reports the address actually bound.
async fn escuchar(direccion: String) -> Result<(TcpAcceptor, SocketAddr), StartError> {
    let acceptor = TcpListener::bind(direccion.clone())
        .into_acceptor()
        .await
        .map_err(|e| StartError::Bind(direccion.clone(), e))?;
    let local = acceptor
        .local_addr()
        .into_iter()
        .find_map(|a| a.as_socket_addr().copied())
        .ok_or_else(|| StartError::Bind(direccion, std::io::Error::other("no local address")))?;
    Ok((acceptor, local))
}

/// The attachments' storage the settings choose: the S3 bucket when set, else `UPLOAD_DIR`.
fn almacen_archivos(
    settings: &Settings,
) -> std::io::Result<Arc<dyn service::archivos::AlmacenArchivos>> {
    #[cfg(feature = "s3")]
    if let Some(s3) = &settings.s3 {
        tracing::info!(bucket = %s3.bucket, "adjuntos en S3");
        let temporal = std::env::temp_dir().join("weigence-chat-subidas");
        return Ok(Arc::new(service::archivos::AlmacenS3::new(s3, temporal)?));
    }
    tracing::info!(carpeta = %settings.upload_dir, "adjuntos en carpeta local");
    Ok(Arc::new(service::archivos::AlmacenLocal::new(
        &settings.upload_dir,
    )?))
}

/// Closes every Socket.IO connection with a proper Engine.IO close packet.
type CierreSockets = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// How [`Application::build`] closes the sockets of a server with any adapter.
fn cierre<A: Adapter>(io: SocketIo<A>) -> CierreSockets {
    Box::new(move || Box::pin(async move { io.close().await }))
}

impl Application {
    /// Connects to the database, inspects its tables and binds the listener (port 0 picks a
    /// free port; [`Application::address`] reports it).
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let store = store::conectar(&settings).await.map_err(|e| match e {
            store::ConexionError::Configuracion(m) => StartError::Config(m),
            store::ConexionError::Store(e) => StartError::Store(e),
        })?;
        operacion::metricas::declarar_series();
        let mut recolectores = vec![operacion::recolector_pool(store.clone())];
        let almacen =
            almacen_archivos(&settings).map_err(|e| StartError::Adjuntos(e.to_string()))?;
        let builder = realtime::configurar(&realtime::AjustesSocketIo {
            ping_interval: settings.ping_interval,
            ping_timeout: settings.ping_timeout,
            max_payload: settings.max_body_bytes,
        });
        let (rutas, cerrar_sockets) = match &settings.redis_url {
            None => {
                let (svc, io) = builder.build_svc();
                let (contexto, rutas) = ensamblar(&settings, store, almacen, svc, io.clone());
                realtime::eventos::registrar(&io, contexto);
                recolectores.push(operacion::recolector_sockets(io.clone()));
                (rutas, cierre(io))
            }
            Some(url) => {
                let cliente = redis::Client::open(realtime::url_resp3(url))
                    .map_err(|e| StartError::Redis(e.to_string()))?;
                let config = RedisAdapterConfig::new().with_prefix(settings.redis_prefix.clone());
                let adaptador = RedisAdapterCtr::new_with_redis_config(&cliente, config)
                    .await
                    .map_err(|e| StartError::Redis(e.to_string()))?;
                let (svc, io) = builder
                    .with_adapter::<RedisAdapter<_>>(adaptador)
                    .build_svc();
                let (contexto, rutas) = ensamblar(&settings, store, almacen, svc, io.clone());
                realtime::eventos::registrar(&io, contexto)
                    .await
                    .map_err(|e| StartError::Redis(e.to_string()))?;
                tracing::info!("Socket.IO con adaptador Redis (varias instancias)");
                recolectores.push(operacion::recolector_sockets(io.clone()));
                recolectores.push(operacion::recolector_redis(cliente));
                (rutas, cierre(io))
            }
        };
        let (acceptor, direccion) =
            escuchar(format!("{}:{}", settings.host, settings.port)).await?;
        let metricas = match &settings.metrics_addr {
            None => None,
            Some(dir) => {
                let (acceptor, direccion) = escuchar(dir.clone()).await?;
                Some(ServidorMetricas {
                    acceptor,
                    direccion,
                    punto: operacion::PuntoMetricas::new(
                        settings.metrics_token.clone(),
                        settings.metrics_allow.clone(),
                        recolectores,
                    ),
                })
            }
        };
        Ok(Application {
            acceptor,
            direccion,
            rutas,
            cerrar_sockets,
            metricas,
        })
    }

    /// The address actually bound.
    pub fn address(&self) -> SocketAddr {
        self.direccion
    }

    /// The address of the metrics listener, when `METRICS_ADDR` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metricas.as_ref().map(|m| m.direccion)
    }

    /// Serves until `apagar` completes, then closes the sockets, stops accepting and lets
    /// in-flight requests finish (bounded by a grace period).
    pub async fn run_until_stopped(
        self,
        apagar: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let cerrar_sockets = self.cerrar_sockets;
        // The metrics listener lives as long as the server and stops with it.
        let metricas = self
            .metricas
            .map(|m| tokio::spawn(Server::new_with_acceptor(m.acceptor).run(m.punto)));
        let apagar = async move {
            apagar.await;
            // Sockets first: clients get an Engine.IO close (not a transport error) and the
            // upgraded connections no longer hold the graceful shutdown open.
            cerrar_sockets().await;
        };
        let resultado = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(self.rutas, apagar, Some(GRACIA_APAGADO))
            .await;
        if let Some(tarea) = metricas {
            tarea.abort();
        }
        resultado
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn senal_de_apagado() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("señal de apagado recibida");
}
