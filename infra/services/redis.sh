#!/usr/bin/env bash
# A private Redis from Debian's packages: the shared store for rate-limit counters in
# the distributed deployment (every API node counts against the same windows).
#
#   redis.sh install   apt-get install redis-server, only if it is not there, without
#                      leaving Debian's redis-server.service running or enabled
#   redis.sh start     start it if needed; prints one line on stdout, HUBLINE_REDIS_URL=redis://…
#   redis.sh stop      shut it down; nothing to do if it is not running
#   redis.sh purge     stop it and delete its data (its log stays)
#   redis.sh status    exit 0 and print the HUBLINE_REDIS_URL line if it answers, else exit 3
#
# Environment: HUBLINE_REDIS_PORT and HUBLINE_RUN_DIR (data, pid and log go in its redis/
# folder), by default this checkout's (see checkout.sh). The rest goes to stderr.
set -euo pipefail

# shellcheck source=infra/services/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"
port="$HUBLINE_REDIS_PORT"
dir="$HUBLINE_RUN_DIR/redis"
pidfile="$dir/redis.pid"
logfile="$dir/redis.log"

say() { echo "redis: $*" >&2; }

install() {
    if command -v redis-server >/dev/null; then
        return
    fi
    say "installing Redis from Debian's packages (log: $HUBLINE_RUN_DIR/setup.log)"
    install_without_service redis-server redis-server \
        || { say "apt-get could not install redis-server"; exit 1; }
}

answering() {
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]
}

start() {
    install
    mkdir -p "$dir"
    chmod 700 "$dir"
    if ! answering; then
        say "starting on 127.0.0.1:$port (log: $logfile)"
        # Counters survive a restart through the append-only file, fsynced every second.
        redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
            --pidfile "$pidfile" --logfile "$logfile" --appendonly yes \
            --appendfsync everysec --save "" >&2
        for _ in $(seq 1 60); do
            answering && break
            sleep 0.25
        done
    fi
    answering || { say "not answering"; tail -n 20 "$logfile" >&2 || true; exit 1; }
    echo "HUBLINE_REDIS_URL=redis://127.0.0.1:$port/0"
}

stop() {
    if answering; then
        say "stopping"
        redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
        for _ in $(seq 1 40); do
            answering || break
            sleep 0.25
        done
    fi
}

# The test harness starts every run from empty counters.
purge() {
    stop
    rm -rf "$dir/appendonlydir"
}

status() {
    if answering; then
        echo "HUBLINE_REDIS_URL=redis://127.0.0.1:$port/0"
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
