# Sourced by the service scripts: where this checkout's services keep their files and which
# ports they listen on, so that two clones can run `make test` at the same time. Each value
# comes from the checkout's absolute path unless its variable is already set:
#
#   HUBLINE_RUN_DIR         ~/.cache/hubline/run-<id>, <id> the first 8 hex digits of the
#                           SHA-256 of the checkout's path
#   HUBLINE_POSTGRES_PORT   17000 + 4 * (<id> mod 1000)
#   HUBLINE_REDIS_PORT      that + 1
#   HUBLINE_KAFKA_PORT      that + 2 (its controller takes + 3)
#
# Run on its own, it prints the four values as shell assignments.

checkout_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
checkout_id="$(printf '%s' "$checkout_dir" | sha256sum | cut -c1-8)"
# Blocks of four ports from 17000 to 20999: below the kernel's ephemeral range (32768 and
# up), from which the tests take the ports of the servers they start.
checkout_ports=$((17000 + 4 * (16#$checkout_id % 1000)))

if [ -z "${HUBLINE_RUN_DIR:-}" ]; then
    HUBLINE_RUN_DIR="$HOME/.cache/hubline/run-$checkout_id"
    # PostgreSQL's socket goes in $HUBLINE_RUN_DIR/postgres, and socket paths are short.
    if [ "${#HUBLINE_RUN_DIR}" -gt 80 ]; then
        HUBLINE_RUN_DIR="/tmp/hubline-$(id -u)-$checkout_id"
    fi
fi
: "${HUBLINE_POSTGRES_PORT:=$checkout_ports}"
: "${HUBLINE_REDIS_PORT:=$((checkout_ports + 1))}"
: "${HUBLINE_KAFKA_PORT:=$((checkout_ports + 2))}"
export HUBLINE_RUN_DIR HUBLINE_POSTGRES_PORT HUBLINE_REDIS_PORT HUBLINE_KAFKA_PORT

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    printf '%s\n' "HUBLINE_RUN_DIR=$HUBLINE_RUN_DIR" "HUBLINE_POSTGRES_PORT=$HUBLINE_POSTGRES_PORT" \
        "HUBLINE_REDIS_PORT=$HUBLINE_REDIS_PORT" "HUBLINE_KAFKA_PORT=$HUBLINE_KAFKA_PORT"
fi
