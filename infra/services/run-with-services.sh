#!/usr/bin/env bash
# Starts the real PostgreSQL, Kafka and Redis the tests use, runs the given command with
# their addresses exported, and stops them again whatever the command's outcome.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

stop_services() {
    bash "$here/redis.sh" stop >&2 || true
    bash "$here/kafka.sh" stop >&2 || true
    bash "$here/postgres.sh" stop >&2 || true
}
trap stop_services EXIT

postgres_line="$(bash "$here/postgres.sh" start)"
kafka_line="$(bash "$here/kafka.sh" start)"
redis_line="$(bash "$here/redis.sh" start)"
export HUBLINE_TEST_POSTGRES_URL="${postgres_line#HUBLINE_POSTGRES_URL=}"
export HUBLINE_TEST_KAFKA_BOOTSTRAP="${kafka_line#KAFKA_BOOTSTRAP=}"
export HUBLINE_TEST_REDIS_URL="${redis_line#HUBLINE_REDIS_URL=}"
echo "PostgreSQL: $HUBLINE_TEST_POSTGRES_URL" >&2
echo "Kafka: $HUBLINE_TEST_KAFKA_BOOTSTRAP" >&2
echo "Redis: $HUBLINE_TEST_REDIS_URL" >&2

"$@"
