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
