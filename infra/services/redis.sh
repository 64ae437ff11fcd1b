#!/usr/bin/env bash
# A private Redis from Debian's packages: the shared store for rate-limit counters in
# the distributed deployment (every API node counts against the same windows).
#   redis.sh install|start|stop|status
# start prints one line on stdout, HUBLINE_REDIS_URL=redis://…; the rest goes to stderr.
set -euo pipefail

port="${HUBLINE_REDIS_PORT:-16379}"
dir="${HUBLINE_REDIS_DIR:-/var/tmp/hubline-redis}"
pidfile="$dir/redis.pid"
logfile="$dir/redis.log"

say() { echo "redis: $*" >&2; }

install() {
    if command -v redis-server >/dev/null; then
        return
    fi
    say "installing Redis from Debian's packages"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2 \
        || { $sudo apt-get update -q >&2 \
             && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2; }
}

answering() {
    [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]
}

start() {
    install
    mkdir -p "$dir"
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

status() {
    if answering; then
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
