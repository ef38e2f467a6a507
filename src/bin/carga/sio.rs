//! A minimal Engine.IO 4 / Socket.IO 5 client over WebSocket: just what the scenarios need
//! (open, connect to `/`, join a room, emit with or without ack, answer pings, read events),
//! cheap enough to hold tens of thousands of sockets next to the server on two cores.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

/// An open WebSocket to the server.
pub type Ws = WebSocketStream<TcpStream>;

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Destino {
    /// The server's address.
    pub addr: SocketAddr,
    /// `host:port`, for the URL, `Host` and `Origin`.
    pub host: String,
    /// How many loopback source addresses to spread the client sockets over
    /// (127.0.0.1, 127.0.0.2, ...): each one has its own ephemeral port range.
    pub origenes: u8,
}

impl Destino {
    /// The loopback source address of the `i`-th client.
    pub fn origen(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(self.origenes.max(1))) as u8)
    }
}

/// A Socket.IO packet from the server, borrowed from the frame.
#[derive(Debug, PartialEq)]
pub enum Entrante<'a> {
    /// `42["nombre",datos]`: `datos` is the raw JSON of the first argument.
    Evento {
        /// Event name.
        nombre: &'a str,
        /// Raw JSON of the first argument (empty when there is none).
        datos: &'a str,
    },
    /// `43<id>[datos]`: the answer to our emit with ack `id`.
    Ack {
        /// The ack id we sent.
        id: u64,
        /// Raw JSON of the first argument.
        datos: &'a str,
    },
}

/// Parses a Socket.IO EVENT or ACK packet of namespace `/` (Engine.IO message `4`).
pub fn analizar(texto: &str) -> Option<Entrante<'_>> {
    let resto = texto.strip_prefix('4')?;
    let (tipo, resto) = (resto.as_bytes().first()?, &resto[1..]);
    let digitos = resto.bytes().take_while(u8::is_ascii_digit).count();
    let (id, arreglo) = resto.split_at(digitos);
    let interior = arreglo.strip_prefix('[')?.strip_suffix(']')?;
    match tipo {
        b'2' => {
            let sin_comilla = interior.strip_prefix('"')?;
            let fin = sin_comilla.find('"')?;
            let nombre = &sin_comilla[..fin];
            let datos = sin_comilla[fin + 1..].strip_prefix(',').unwrap_or("");
            Some(Entrante::Evento { nombre, datos })
        }
        b'3' => Some(Entrante::Ack {
            id: id.parse().ok()?,
            datos: interior,
        }),
        _ => None,
    }
}

/// `42["evento",datos]`, or `42<ack>["evento",datos]` to ask for an ack.
pub fn emitir(evento: &str, datos: &str, ack: Option<u64>) -> String {
    match ack {
        Some(id) => format!("42{id}[\"{evento}\",{datos}]"),
        None => format!("42[\"{evento}\",{datos}]"),
    }
}

/// Sends one text frame.
async fn enviar(ws: &mut Ws, texto: &str) -> Result<(), String> {
    ws.send(Message::Text(Utf8Bytes::from(texto)))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// The next text frame, answering Engine.IO pings on the way.
async fn siguiente(ws: &mut Ws) -> Result<Utf8Bytes, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => enviar(ws, "3").await?,
            Some(Ok(Message::Text(t))) => return Ok(t),
            Some(Ok(Message::Close(c))) => return Err(format!("closed by the server: {c:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("read: {e}")),
            None => return Err("closed by the server".into()),
        }
    }
}

/// Waits for event `nombre`, ignoring others; an `error` event fails.
async fn esperar_evento(ws: &mut Ws, nombre: &str) -> Result<(), String> {
    loop {
        let t = siguiente(ws).await?;
        match analizar(&t) {
            Some(Entrante::Evento { nombre: n, .. }) if n == nombre => return Ok(()),
            Some(Entrante::Evento {
                nombre: "error",
                datos,
            }) => {
                return Err(format!("error event: {datos}"));
            }
            _ if t.starts_with("44") => return Err(format!("connect refused: {t}")),
            _ => {}
        }
    }
}

/// Opens a WebSocket from `origen`, completes the Engine.IO and Socket.IO handshakes with the
/// session cookie, waits for `conectado`, and joins `sala` (waiting for `unido_conversacion`).
pub async fn abrir(
    destino: &Destino,
    origen: Ipv4Addr,
    cookie: &str,
    sala: Option<&str>,
) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::from((origen, 0)))
        .map_err(|e| format!("bind {origen}: {e}"))?;
    let tcp = socket
        .connect(destino.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", destino.host);
    let mut peticion = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    let cabeceras = peticion.headers_mut();
    let valor = |v: String| HeaderValue::try_from(v).map_err(|e| format!("header: {e}"));
    cabeceras.insert("cookie", valor(format!("session={cookie}"))?);
    cabeceras.insert("origin", valor(format!("http://{}", destino.host))?);
    // Small buffers: tens of thousands of these live in one process.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = client_async_with_config(peticion, tcp, Some(config))
        .await
        .map_err(|e| format!("websocket handshake: {e}"))?;
    let apertura = siguiente(&mut ws).await?;
    if !apertura.starts_with("0{") {
        return Err(format!("expected an Engine.IO open packet, got {apertura}"));
    }
    enviar(&mut ws, "40").await?;
    // python-socketio sends what its connect handler emits before the CONNECT answer.
    let mut saludado = false;
    loop {
        let t = siguiente(&mut ws).await?;
        if t.starts_with("40") {
            break;
        }
        if t.starts_with("44") {
            return Err(format!("connect refused: {t}"));
        }
        saludado |= matches!(
            analizar(&t),
            Some(Entrante::Evento {
                nombre: "conectado",
                ..
            })
        );
    }
    if !saludado {
        esperar_evento(&mut ws, "conectado").await?;
    }
    if let Some(sala) = sala {
        let datos = serde_json::json!({ "conversacion_id": sala }).to_string();
        enviar(&mut ws, &emitir("unirse_conversacion", &datos, None)).await?;
        esperar_evento(&mut ws, "unido_conversacion").await?;
    }
    Ok(ws)
}

/// How a client's life ended.
#[derive(Debug)]
pub enum Fin {
    /// We asked it to stop.
    Parado,
    /// The server closed it, or reading/writing failed.
    Perdido(String),
}

/// Drives an open socket until `parar` turns true: answers pings, sends the frames that arrive
/// on `salida`, and hands every event and ack to `manejar`, which may answer with a frame.
pub async fn conducir<F>(
    mut ws: Ws,
    mut salida: mpsc::UnboundedReceiver<String>,
    mut parar: watch::Receiver<bool>,
    mut manejar: F,
) -> Fin
where
    F: FnMut(Entrante<'_>) -> Option<String>,
{
    loop {
        let respuesta = tokio::select! {
            biased;
            _ = parar.wait_for(|p| *p) => return Fin::Parado,
            fuera = salida.recv() => match fuera {
                Some(t) => Some(t),
                None => return Fin::Parado,
            },
            entra = ws.next() => match entra {
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => Some("3".to_owned()),
                Some(Ok(Message::Text(t))) => analizar(&t).and_then(&mut manejar),
                Some(Ok(Message::Close(c))) => return Fin::Perdido(format!("closed by the server: {c:?}")),
                Some(Ok(_)) => None,
                Some(Err(e)) => return Fin::Perdido(format!("read: {e}")),
                None => return Fin::Perdido("closed by the server".into()),
            },
        };
        if let Some(t) = respuesta
            && let Err(e) = enviar(&mut ws, &t).await
        {
            return Fin::Perdido(e);
        }
    }
}

/// The default bound on one client's handshake (TCP, WebSocket, Engine.IO, Socket.IO, join).
pub const LIMITE_APERTURA: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_and_acks() {
        assert_eq!(
            analizar(r#"42["conectado",{"mensaje":"x"}]"#),
            Some(Entrante::Evento {
                nombre: "conectado",
                datos: r#"{"mensaje":"x"}"#
            })
        );
        assert_eq!(
            analizar(r#"4317[{"id":1}]"#),
            Some(Entrante::Ack {
                id: 17,
                datos: r#"{"id":1}"#
            })
        );
        assert_eq!(
            analizar(r#"42["sin_datos"]"#),
            Some(Entrante::Evento {
                nombre: "sin_datos",
                datos: ""
            })
        );
        assert_eq!(analizar("2"), None);
        assert_eq!(analizar(r#"40{"sid":"a"}"#), None);
    }

    #[test]
    fn emits_with_and_without_ack() {
        assert_eq!(emitir("e", "{}", None), r#"42["e",{}]"#);
        assert_eq!(emitir("e", "{}", Some(3)), r#"423["e",{}]"#);
    }

    #[test]
    fn spreads_clients_over_source_addresses() {
        let d = Destino {
            addr: "127.0.0.1:1".parse().unwrap(),
            host: "127.0.0.1:1".into(),
            origenes: 4,
        };
        assert_eq!(d.origen(0), Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(d.origen(5), Ipv4Addr::new(127, 0, 0, 2));
    }
}
