//! A minimal keep-alive HTTP/1.1 client (the REST, search and attachment scenarios), so the
//! load needs no extra HTTP stack: one request at a time per connection, `Content-Length` or
//! chunked bodies.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One persistent connection.
pub struct Conexion {
    flujo: BufReader<TcpStream>,
}

/// A response: status and body.
pub struct Respuesta {
    /// HTTP status code.
    pub status: u16,
    /// The body (de-chunked).
    pub cuerpo: Vec<u8>,
}

impl Conexion {
    /// Connects to `addr`.
    pub async fn abrir(addr: SocketAddr) -> Result<Conexion, String> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        Ok(Conexion {
            flujo: BufReader::with_capacity(64 * 1024, tcp),
        })
    }

    /// Sends `peticion` (a complete request head) and reads the whole response.
    pub async fn get(&mut self, peticion: &[u8]) -> Result<Respuesta, String> {
        self.enviar(peticion, &[]).await
    }

    /// Sends a request head and its body, then reads the whole response.
    pub async fn enviar(&mut self, cabeza: &[u8], cuerpo: &[u8]) -> Result<Respuesta, String> {
        let tcp = self.flujo.get_mut();
        tcp.write_all(cabeza)
            .await
            .map_err(|e| format!("write: {e}"))?;
        tcp.write_all(cuerpo)
            .await
            .map_err(|e| format!("write body: {e}"))?;
        let mut linea = String::new();
        self.leer_linea(&mut linea).await?;
        let status = linea
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line {linea:?}"))?;
        let mut largo: Option<usize> = None;
        let mut troceado = false;
        loop {
            self.leer_linea(&mut linea).await?;
            let l = linea.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((nombre, valor)) = l.split_once(':') else {
                continue;
            };
            let valor = valor.trim();
            if nombre.eq_ignore_ascii_case("content-length") {
                largo = valor.parse().ok();
            } else if nombre.eq_ignore_ascii_case("transfer-encoding") {
                troceado = valor.eq_ignore_ascii_case("chunked");
            }
        }
        let mut cuerpo = Vec::new();
        if troceado {
            loop {
                self.leer_linea(&mut linea).await?;
                let tam = usize::from_str_radix(linea.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| format!("bad chunk size {linea:?}"))?;
                let inicio = cuerpo.len();
                cuerpo.resize(inicio + tam + 2, 0);
                self.flujo
                    .read_exact(&mut cuerpo[inicio..])
                    .await
                    .map_err(|e| format!("read chunk: {e}"))?;
                cuerpo.truncate(inicio + tam);
                if tam == 0 {
                    break;
                }
            }
        } else if let Some(n) = largo {
            cuerpo.resize(n, 0);
            self.flujo
                .read_exact(&mut cuerpo)
                .await
                .map_err(|e| format!("read body: {e}"))?;
        } else {
            return Err("response without length on a keep-alive connection".into());
        }
        Ok(Respuesta { status, cuerpo })
    }

    async fn leer_linea(&mut self, linea: &mut String) -> Result<(), String> {
        linea.clear();
        match self.flujo.read_line(linea).await {
            Ok(0) => Err("connection closed".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("read: {e}")),
        }
    }
}

/// The head of a GET request with the session cookie.
pub fn peticion_get(host: &str, ruta: &str, cookie: &str) -> Vec<u8> {
    format!(
        "GET {ruta} HTTP/1.1\r\nHost: {host}\r\nCookie: session={cookie}\r\nAccept: application/json\r\n\r\n"
    )
    .into_bytes()
}

/// The head of a POST of `largo` raw bytes with the session cookie.
pub fn peticion_post(host: &str, ruta: &str, cookie: &str, largo: usize) -> Vec<u8> {
    format!(
        "POST {ruta} HTTP/1.1\r\nHost: {host}\r\nCookie: session={cookie}\r\nContent-Type: application/octet-stream\r\nContent-Length: {largo}\r\nAccept: application/json\r\n\r\n"
    )
    .into_bytes()
}
