#!/usr/bin/env bash
# A private PostgreSQL cluster from Debian's packages, on its own port and directory,
# so tests never touch a system cluster.
#   postgres.sh install|start|stop|status
# start prints one line on stdout, HUBLINE_POSTGRES_URL=postgresql://…; the rest goes to stderr.
set -euo pipefail

port="${HUBLINE_POSTGRES_PORT:-15432}"
# Outside $HOME: when we run as root the server runs as `postgres`, which cannot enter /root.
dir="${HUBLINE_POSTGRES_DIR:-/var/tmp/hubline-postgres}"
data="$dir/data"
logfile="$dir/postgres.log"
url="postgresql://hubline:hubline@127.0.0.1:$port/hubline"

say() { echo "postgres: $*" >&2; }

bindir() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$found" ] && [ -x "$found/postgres" ] && echo "$found"
}

install() {
    if [ -n "$(bindir)" ]; then
        return
    fi
    say "installing PostgreSQL from Debian's packages"
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    else
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    fi
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

answering() {
    as_owner "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null
}

psql_admin() {
    as_owner "$(bindir)/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -d postgres -At "$@"
}

start() {
    install
    local bin
    bin="$(bindir)"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    if ! answering; then
        if [ ! -f "$data/PG_VERSION" ]; then
            say "creating a cluster in $data"
            as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >&2
        fi
        say "starting on 127.0.0.1:$port (log: $logfile)"
        # fsync stays on: the suite's crash tests measure real durability.
        as_owner "$bin/pg_ctl" -D "$data" -l "$logfile" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >&2 \
            || { tail -n 30 "$logfile" >&2; exit 1; }
    fi
    for _ in $(seq 1 60); do
        answering && break
        sleep 0.5
    done
    answering || { say "not answering"; tail -n 30 "$logfile" >&2; exit 1; }
    if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'hubline'")" != "1" ]; then
        psql_admin -c "CREATE ROLE hubline LOGIN CREATEDB PASSWORD 'hubline'"
    fi
    if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'hubline'")" != "1" ]; then
        psql_admin -c "CREATE DATABASE hubline OWNER hubline"
    fi
    echo "HUBLINE_POSTGRES_URL=$url"
}

stop() {
    local bin
    bin="$(bindir || true)"
    if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
        say "stopping"
        as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
    fi
}

status() {
    if [ -n "$(bindir || true)" ] && answering; then
        say "running on 127.0.0.1:$port"
    else
        say "not running"
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
