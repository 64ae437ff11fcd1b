#!/usr/bin/env bash
# Builds Sockudo (the Rust Pusher-compatible server) once into a cache outside the tree and runs it
# with one statically configured app, so bench/pusher_fanout.py can compare Hubline against it in the
# same run. Sockudo's code is never vendored: cargo fetches the published crate from crates.io.
#
#   bench/sockudo.sh build                      # ~20 min on 2 cores the first time; no-op afterwards
#   bench/sockudo.sh run PORT APP_ID KEY SECRET [taskset-cpu]
#                                               # execs the server in the foreground (caller keeps the pid)
#
# Needs cargo and protoc (Debian: apt-get install protobuf-compiler; one dependency compiles .proto files).
set -euo pipefail

SOCKUDO_VERSION="${SOCKUDO_VERSION:-5.2.0}"
CACHE="${HUBLINE_SOCKUDO_CACHE:-$HOME/.cache/hubline/sockudo}"
ROOT="$CACHE/$SOCKUDO_VERSION"
BIN="$ROOT/bin/sockudo"

build() {
    if [[ -x "$BIN" ]]; then
        echo "$BIN"
        return
    fi
    command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 2; }
    mkdir -p "$ROOT"
    # The "local" feature set is the pure-Pusher build: local adapter, in-memory app manager, cache and
    # queue -- the same single-node shape as `hubline serve`. nice keeps the 20-minute LTO build from
    # disturbing measurements other people run on this machine.
    CARGO_TARGET_DIR="$CACHE/target" nice -n 19 cargo install sockudo --version "$SOCKUDO_VERSION" \
        --locked --no-default-features --features local --root "$ROOT" >&2
    # The gigabyte of intermediate objects is only worth keeping while a build may resume.
    rm -rf "$CACHE/target"
    echo "$BIN"
}

run() {
    local port="$1" app_id="$2" key="$3" secret="$4" cpu="${5:-}"
    [[ -x "$BIN" ]] || { echo "Sockudo not built yet: run '$0 build' first" >&2; exit 2; }
    # Sockudo first loads config/config.{toml,json} from its working directory: run from an empty one.
    # The app's limits are its flat fields (Sockudo folds them into its policy; a "policy" object
    # would replace them all). Its rate limiter is off: defaults allow 20 connects per address and
    # minute, and every bench client comes from 127.0.0.1. Other settings stay at Sockudo's defaults.
    local workdir
    workdir="$(mktemp -d /tmp/sockudo-run.XXXXXX)"
    cat >"$workdir/sockudo.json" <<JSON
{
  "debug": false,
  "host": "127.0.0.1",
  "port": $port,
  "mode": "production",
  "adapter": {"driver": "local"},
  "app_manager": {
    "driver": "memory",
    "array": {
      "apps": [{
        "id": "$app_id",
        "key": "$key",
        "secret": "$secret",
        "enabled": true,
        "enable_client_messages": true,
        "max_connections": 1000000,
        "max_backend_events_per_second": 10000000,
        "max_client_events_per_second": 10000000,
        "max_read_requests_per_second": 10000000,
        "max_event_channels_at_once": 100,
        "max_event_batch_size": 10,
        "max_event_payload_in_kb": 100,
        "max_event_name_length": 200
      }]
    }
  },
  "cache": {"driver": "memory"},
  "queue": {"driver": "none"},
  "metrics": {"enabled": false},
  "rate_limiter": {"enabled": false},
  "websocket_max_payload_kb": 100
}
JSON
    cd "$workdir"
    # Warnings and errors only, like `hubline serve --log-level warning` in the bench: at info
    # Sockudo logs every connection, which would count against it at 10,000 sockets.
    export RUST_LOG="${RUST_LOG:-warn}"
    if [[ -n "$cpu" ]]; then
        exec taskset -c "$cpu" "$BIN" --config "$workdir/sockudo.json"
    fi
    exec "$BIN" --config "$workdir/sockudo.json"
}

case "${1:-}" in
    build) build ;;
    bin) echo "$BIN" ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 build | bin | run PORT APP_ID KEY SECRET [cpu]" >&2; exit 2 ;;
esac
