#!/usr/bin/env bash
# A private PostgreSQL cluster from Debian's packages, on its own port and directory, so
# tests never touch (or depend on) a system cluster.
#
#   postgres.sh install   apt-get install postgresql, only if no server binaries are there
#   postgres.sh start     start the cluster if needed (creating it, the hubline role and the
#                         hubline database the first time) and print one line on stdout,
#                         HUBLINE_POSTGRES_URL=postgresql://hubline:hubline@127.0.0.1:<port>/hubline
#   postgres.sh stop      pg_ctl stop -m fast; nothing to do if it is not running
#   postgres.sh purge     stop it and delete the cluster (its log stays)
#   postgres.sh status    exit 0 and print the HUBLINE_POSTGRES_URL line if it answers, else exit 3
#
# Environment: HUBLINE_POSTGRES_PORT and HUBLINE_RUN_DIR (the cluster goes in its postgres/
# folder), by default this checkout's (see checkout.sh).
# Everything but the URL line goes to stderr, so `$(postgres.sh start)` is the line; the
# output of apt-get, initdb and pg_ctl goes to the setup log unless they fail.
set -euo pipefail

# shellcheck source=infra/services/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"
port="$HUBLINE_POSTGRES_PORT"
run="$HUBLINE_RUN_DIR/postgres"
data="$run/data"
logfile="$run/postgres.log"
url="postgresql://hubline:hubline@127.0.0.1:$port/hubline"

say() { echo "postgres: $*" >&2; }
die() { say "$*"; exit 1; }

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    die "HUBLINE_POSTGRES_PORT must be a port number, not '$port'"
fi
# The admin connection uses a Unix socket in $run, and socket paths are limited to 107 bytes.
[ "${#run}" -le 90 ] || die "$run is too long a path for PostgreSQL's socket; set a shorter HUBLINE_RUN_DIR"

bindir() {
    local dir
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    done
    return 1
}

install() {
    if bindir >/dev/null; then
        return
    fi
    say "installing PostgreSQL from Debian's packages (log: $HUBLINE_RUN_DIR/setup.log)"
    install_without_service postgresql postgresql || die "apt-get could not install postgresql"
    bindir >/dev/null || die "postgresql is installed but no /usr/lib/postgresql/*/bin/postgres was found"
}

# PostgreSQL refuses to run as root. As root, we run it in a user namespace where our uid
# is seen as the postgres user's: the cluster can then live under /root (which the real
# postgres user cannot even enter) and its files stay root's, with no chmod of /root and no
# change of ownership. Where user namespaces are disabled, fall back to the real postgres user.
# Decided on first use, after install: the postgres user comes with the package.
owner=""

as_owner() {
    if [ -z "$owner" ]; then
        if [ "$(id -u)" -ne 0 ]; then
            owner=self
        elif unshare --user --map-user=postgres --map-group=postgres true 2>/dev/null; then
            owner=userns
        else
            owner=postgres
        fi
    fi
    case "$owner" in
        self) "$@" ;;
        userns) unshare --user --map-user=postgres --map-group=postgres "$@" ;;
        postgres) runuser -u postgres -- "$@" ;;
    esac
}

prepare_dir() {
    mkdir -p "$run"
    chmod 700 "$run"
    as_owner true
    if [ "$owner" = postgres ]; then
        chown postgres:postgres "$run"
        runuser -u postgres -- test -w "$run" \
            || die "no user namespaces here, and the postgres user cannot reach $run; set HUBLINE_RUN_DIR to a directory it can reach (e.g. under /var/tmp)"
    fi
}

# Our own cluster, not just anything on the port.
running() {
    [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

answering() {
    "$bin/pg_isready" -q -h "$run" -p "$port" -U postgres -d postgres
}

psql_admin() {
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$port" -U postgres -d postgres -At "$@"
}

port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
    install
    bin="$(bindir)"
    prepare_dir
    # Two callers starting at once (parallel test runs) must not run initdb or start twice.
    exec 9>"$run/.lock"
    flock -w 120 9 || die "another postgres.sh holds $run/.lock"

    if ! running; then
        port_taken && die "port $port is taken by a process that is not this cluster; stop it or set HUBLINE_POSTGRES_PORT"
        if [ ! -f "$data/PG_VERSION" ]; then
            # Trust over the Unix socket only, which sits in our private $run (mode 700);
            # over TCP every role needs its password.
            quietly "initdb $data" as_owner "$bin/initdb" -D "$data" -U postgres -E UTF8 \
                --no-locale --auth-local=trust --auth-host=scram-sha-256 9>&- \
                || die "initdb failed (see above)"
        fi
        say "starting PostgreSQL $(basename "$(dirname "$bin")") on 127.0.0.1:$port (log: $logfile)"
        # fsync and synchronous_commit stated, not assumed: the suite measures durability.
        # 9>&-: the server must not keep the lock.
        quietly "pg_ctl start" as_owner "$bin/pg_ctl" start -D "$data" -l "$logfile" -w -t 60 \
            -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$run' \
            -c fsync=on -c synchronous_commit=on -c full_page_writes=on \
            -c max_connections=300" 9>&- \
            || { say "pg_ctl could not start the cluster; the end of $logfile:"; tail -n 30 "$logfile" >&2 || true; exit 1; }
    fi
    for _ in $(seq 1 120); do
        answering && break
        sleep 0.5
    done
    answering || { say "the cluster does not answer; the end of $logfile:"; tail -n 30 "$logfile" >&2 || true; exit 1; }

    # ALTER as well as CREATE: the URL's password must hold even if someone changed it.
    if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'hubline'")" != "1" ]; then
        psql_admin -c "CREATE ROLE hubline LOGIN CREATEDB PASSWORD 'hubline'"
    else
        psql_admin -c "ALTER ROLE hubline LOGIN CREATEDB PASSWORD 'hubline'"
    fi
    if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'hubline'")" != "1" ]; then
        psql_admin -c "CREATE DATABASE hubline OWNER hubline"
    fi
    echo "HUBLINE_POSTGRES_URL=$url"
}

stop() {
    bin="$(bindir)" || return 0
    if running; then
        say "stopping the cluster in $data"
        quietly "pg_ctl stop" as_owner "$bin/pg_ctl" stop -D "$data" -m fast -w -t 60 \
            || die "pg_ctl could not stop the cluster in $data"
    fi
}

# The test harness starts every run from an empty cluster: nothing a killed run left
# behind (databases, WAL) outlives it.
purge() {
    stop
    rm -rf "$data"
}

status() {
    bin="$(bindir)" || { say "not installed"; exit 3; }
    if running && answering; then
        echo "HUBLINE_POSTGRES_URL=$url"
    else
        say "not running (or not answering) on 127.0.0.1:$port"
        exit 3
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    purge) purge ;;
    status) status ;;
    *) echo "usage: $0 install|start|stop|purge|status" >&2; exit 2 ;;
esac
