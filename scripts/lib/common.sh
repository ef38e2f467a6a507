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
