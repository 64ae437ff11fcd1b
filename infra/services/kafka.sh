#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft, broker and controller in one process) run from
# the jars on Maven Central: there is no Docker engine and no Apache download site here.
#   kafka.sh install|start|stop|status
# start prints one line on stdout, KAFKA_BOOTSTRAP=host:port; everything else goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")"
cache="${HUBLINE_CACHE_DIR:-$HOME/.cache/hubline}"
lib="$cache/kafka-$version/lib"
run="${HUBLINE_RUN_DIR:-$cache/run}/kafka"
port="${HUBLINE_KAFKA_PORT:-19092}"
controller_port=$((port + 1))
pidfile="$run/kafka.pid"
logfile="$run/kafka.log"

say() { echo "kafka: $*" >&2; }

install() {
    if [ -f "$lib/.complete" ]; then
        return
    fi
    command -v mvn >/dev/null || { say "Maven is needed to fetch the broker's jars"; exit 1; }
    command -v java >/dev/null || { say "Java 17 is needed to run the broker"; exit 1; }
    say "fetching Kafka $version and its dependencies from Maven Central into $lib"
    rm -rf "$lib"
    mkdir -p "$lib"
    mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$lib" >&2
    touch "$lib/.complete"
}

running() {
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answering() {
    # A metadata request, not just an open port: the broker must have joined its quorum.
    "${HUBLINE_PYTHON:-python3}" - "$port" <<'PY' >/dev/null 2>&1
import sys
from kafka import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{sys.argv[1]}", request_timeout_ms=3000)
admin.list_topics()
admin.close()
PY
}

configure() {
    mkdir -p "$run/data"
    cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
PROPS
    cat > "$run/log4j2.properties" <<'PROPS'
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=WARN
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
PROPS
}

start() {
    install
    if running && answering; then
        echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"
        return
    fi
    stop
    configure
    if [ ! -f "$run/data/meta.properties" ]; then
        java -cp "$lib/*" kafka.tools.StorageTool format \
            -t "$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid)" \
            -c "$run/server.properties" >&2
    fi
    say "starting on 127.0.0.1:$port (log: $logfile)"
    nohup java -Xmx512m -Xms256m \
        -Dlog4j2.configurationFile="$run/log4j2.properties" \
        -cp "$lib/*" kafka.Kafka "$run/server.properties" >"$logfile" 2>&1 &
    echo $! > "$pidfile"
    for _ in $(seq 1 180); do
        if ! running; then
            say "the broker exited; its log ends:"
            tail -n 40 "$logfile" >&2
            exit 1
        fi
        if answering; then
            echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"
            return
        fi
        sleep 0.5
    done
    say "the broker did not answer within 90 s; its log ends:"
    tail -n 40 "$logfile" >&2
    exit 1
}

stop() {
    if ! [ -f "$pidfile" ]; then
        return
    fi
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

status() {
    if running && answering; then
        say "running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
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
