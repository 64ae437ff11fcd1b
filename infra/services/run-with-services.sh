#!/usr/bin/env bash
# Starts the real PostgreSQL, Kafka and Redis the tests use, runs the given command with
# their addresses exported, and frees what it started whatever the command's outcome.
#
# The services are this checkout's (run directory and ports from checkout.sh, unless
# HUBLINE_RUN_DIR and the HUBLINE_*_PORT variables say otherwise), so clones test side by
# side. One that already answers (`make services-start`) is used and left running; one this
# script starts begins empty and is stopped and emptied at the end: no database, topic or
# counter of a test run, finished or killed, outlives the next run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=infra/services/checkout.sh
source "$here/checkout.sh"

started=()

free_started() {
    local i
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        bash "$here/${started[i]}.sh" purge >&2 || true
    done
}
trap free_started EXIT
# A signal must end the script through the EXIT trap too.
trap 'exit 130' INT
trap 'exit 143' TERM

# bring_up NAME VARIABLE: VARIABLE gets the service's address line.
bring_up() {
    local name="$1" line
    if ! line="$(bash "$here/$name.sh" status 2>/dev/null)"; then
        # What a killed run left behind goes before the service starts.
        bash "$here/$name.sh" purge >&2
        started+=("$name")
        line="$(bash "$here/$name.sh" start)"
    fi
    printf -v "$2" '%s' "$line"
}

bring_up postgres postgres_line
bring_up kafka kafka_line
bring_up redis redis_line
export HUBLINE_TEST_POSTGRES_URL="${postgres_line#HUBLINE_POSTGRES_URL=}"
export HUBLINE_TEST_KAFKA_BOOTSTRAP="${kafka_line#KAFKA_BOOTSTRAP=}"
export HUBLINE_TEST_REDIS_URL="${redis_line#HUBLINE_REDIS_URL=}"
echo "services in $HUBLINE_RUN_DIR: PostgreSQL $HUBLINE_TEST_POSTGRES_URL," \
    "Kafka $HUBLINE_TEST_KAFKA_BOOTSTRAP, Redis $HUBLINE_TEST_REDIS_URL" >&2

"$@"
