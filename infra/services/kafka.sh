#!/usr/bin/env bash
# One Apache Kafka node (KRaft: broker and controller in one process), run straight from
# the jars on Maven Central: this machine has no Docker engine and no Apache download site.
#
#   kafka.sh install   fetch the jars once into the cache (needs mvn and Java 17)
#   kafka.sh start     start the node if needed and wait until it answers; prints one line,
#                      KAFKA_BOOTSTRAP=127.0.0.1:<port>, on stdout
#   kafka.sh stop      stop it (SIGTERM, then SIGKILL); nothing to do if it is not running
#   kafka.sh purge     stop it and delete its data (its log stays)
#   kafka.sh status    exit 0 and print the KAFKA_BOOTSTRAP line if it answers, else exit 3
#
# Environment: HUBLINE_KAFKA_PORT (the controller takes the next port) and HUBLINE_RUN_DIR
# (config, data, pid and log), by default this checkout's (see checkout.sh);
# HUBLINE_CACHE_DIR (~/.cache/hubline: the jars, shared by all checkouts), HUBLINE_PYTHON
# (python3 with confluent-kafka, for the readiness check), HUBLINE_KAFKA_START_TIMEOUT (90 seconds).
# Everything but the KAFKA_BOOTSTRAP line goes to stderr, so `$(kafka.sh start)` is the line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/services/quietly.sh
source "$here/quietly.sh"
pom="$here/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${HUBLINE_CACHE_DIR:-$HOME/.cache/hubline}"
lib="$cache/kafka-$version/lib"
run="$HUBLINE_RUN_DIR/kafka"
port="$HUBLINE_KAFKA_PORT"
python="${HUBLINE_PYTHON:-python3}"
start_timeout="${HUBLINE_KAFKA_START_TIMEOUT:-90}"
pidfile="$run/kafka.pid"
logfile="$run/kafka.log"
bootstrap="127.0.0.1:$port"

say() { echo "kafka: $*" >&2; }
die() { say "$*"; exit 1; }

[ -n "$version" ] || die "no <kafka.version> in $pom"
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65534 ]; then
    die "HUBLINE_KAFKA_PORT must be a port number below 65535, not '$port'"
fi
controller_port=$((port + 1))

install() {
    if [ -f "$lib/.complete" ]; then
        return
    fi
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the broker's jars: apt-get install -y maven"
    check_java
    # The cache is shared by every checkout: two first runs at once must not both download.
    mkdir -p "$cache"
    exec 8>"$cache/.kafka-$version.lock"
    flock -w 600 8 || die "another kafka.sh holds $cache/.kafka-$version.lock"
    if [ -f "$lib/.complete" ]; then
        exec 8>&-
        return
    fi
    say "fetching Kafka $version and its dependencies from Maven Central into $lib"
    # Download next to the cache and rename at the end: an interrupted download must not
    # leave a half-filled lib/ that a later run would take as complete.
    local partial="$lib.partial"
    rm -rf "$partial" "$partial.log"
    mkdir -p "$partial"
    if ! mvn -B -f "$pom" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$partial" >"$partial.log" 2>&1; then
        grep -E '\[(ERROR|WARNING)\]' "$partial.log" | tail -n 30 >&2 || true
        die "Maven could not resolve the broker's jars; its whole output is in $partial.log"
    fi
    ls "$partial"/kafka_2.13-"$version".jar >/dev/null 2>&1 \
        || die "Maven finished but $partial has no kafka_2.13-$version.jar"
    touch "$partial/.complete"
    rm -rf "$lib"
    mv "$partial" "$lib"
    rm -f "$partial.log"
    exec 8>&-
}

check_java() {
    command -v java >/dev/null || die "Java 17 or newer is needed to run the broker: apt-get install -y openjdk-17-jre-headless"
    local major
    major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
    [ "${major:-0}" -ge 17 ] || die "Kafka $version needs Java 17 or newer; java -version says ${major:-nothing}"
}

# The pid file alone can lie (a stale file, a reused pid): the process must be our broker.
running() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $run/server.properties"
}

# Waits up to $1 seconds for the broker to answer a metadata request (an open port is not
# enough: the broker must have joined its quorum). Stops early with status 2 if the
# process $2 dies.
wait_answering() {
    "$python" - "$port" "$1" "${2:-0}" <<'PY'
import os, socket, sys, time

try:
    from confluent_kafka.admin import AdminClient
except ImportError:
    sys.exit(1)

port, wait, pid = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])


def alive(pid):
    # A broker that died in the start call is our zombie: its /proc entry stays, state Z.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

deadline = time.monotonic() + wait
while True:
    try:
        # A refused port would make the client retry for its whole bootstrap timeout.
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        # Quiet: the last error is printed below if the broker never answers.
        admin = AdminClient(
            {
                "bootstrap.servers": f"127.0.0.1:{port}",
                "log_level": 0,
                "error_cb": lambda error: None,
                "reconnect.backoff.max.ms": 250,
            }
        )
        admin.list_topics(timeout=3)
        sys.exit(0)
    except Exception as error:
        last_error = error
    if pid and not alive(pid):
        sys.exit(2)
    if time.monotonic() >= deadline:
        print(f"kafka: the last readiness check failed with {last_error!r}", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.25)
PY
}

port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

configure() {
    mkdir -p "$run/data"
    # Static voters (not controller.quorum.bootstrap.servers): the storage is then formatted
    # without --standalone and a restart needs nothing but this file.
    cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data
num.partitions=3
auto.create.topics.enable=true
# One node: every internal topic must make do with one replica or it is never created.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups all the time; the default 3 s wait for more members is pure delay here.
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
PROPS
    # The broker's own INFO lines run to megabytes per test run; warnings are what explain
    # a failure, plus the few lines that say the node started and stopped.
    cat >"$run/log4j2.properties" <<'PROPS'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.server.name=kafka.server.KafkaRaftServer
logger.server.level=INFO
logger.broker.name=kafka.server.BrokerServer
logger.broker.level=INFO
PROPS
}

failed() {
    say "$*; the end of $logfile:"
    tail -n 40 "$logfile" >&2 2>/dev/null || true
    exit 1
}

start() {
    install
    check_java
    "$python" -c "import confluent_kafka" 2>/dev/null \
        || die "$python cannot import confluent_kafka (confluent-kafka), which the readiness check needs: install the project's dependencies, or set HUBLINE_PYTHON"
    mkdir -p "$run"
    # Two callers starting at once (parallel test runs) must not format or launch twice.
    exec 9>"$run/.lock"
    flock -w 180 9 || die "another kafka.sh holds $run/.lock"

    if running; then
        # Answering already, or still starting up: either way wait for it, do not restart it.
        local pid status=0
        pid="$(cat "$pidfile")"
        wait_answering "$start_timeout" "$pid" || status=$?
        case "$status" in
            0) echo "KAFKA_BOOTSTRAP=$bootstrap"; return ;;
            2) say "the broker (pid $pid) exited while starting" ;;
            *) failed "the running broker (pid $pid) did not answer on $bootstrap within ${start_timeout}s" ;;
        esac
    fi
    rm -f "$pidfile"
    if port_taken "$port" || port_taken "$controller_port"; then
        die "port $port or $controller_port is taken by a process that is not this broker; stop it or set HUBLINE_KAFKA_PORT"
    fi

    configure
    if [ ! -f "$run/data/meta.properties" ]; then
        # What `StorageTool random-uuid` prints (16 random bytes, URL-safe base64, no
        # padding, not starting with "-"), without starting a JVM for it.
        local cluster_id=""
        while [ -z "$cluster_id" ] || [ "${cluster_id:0:1}" = "-" ]; do
            cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
        done
        quietly "formatting Kafka's storage in $run/data" \
            java -cp "$lib/*" kafka.tools.StorageTool format -t "$cluster_id" \
            -c "$run/server.properties" 9>&- \
            || die "formatting $run/data failed (see above)"
    fi

    say "starting Kafka $version on $bootstrap (log: $logfile)"
    # Keep the previous run's log: it is the one that explains a broker that died.
    [ ! -f "$logfile" ] || mv -f "$logfile" "$logfile.1"
    # setsid: its own session, so a Ctrl-C or a kill of the caller's process group (test
    # runners, CI) leaves the broker to `stop`. 9>&-: the broker must not keep the lock.
    nohup setsid java -Xms256m -Xmx512m \
        -Dlog4j2.configurationFile="$run/log4j2.properties" \
        -cp "$lib/*" kafka.Kafka "$run/server.properties" \
        </dev/null >"$logfile" 2>&1 9>&- &
    local pid=$!
    echo "$pid" >"$pidfile"

    local status=0
    wait_answering "$start_timeout" "$pid" || status=$?
    case "$status" in
        0) echo "KAFKA_BOOTSTRAP=$bootstrap" ;;
        2) rm -f "$pidfile"; failed "the broker exited while starting" ;;
        *) failed "the broker (pid $pid) did not answer on $bootstrap within ${start_timeout}s; it is left running for a look, kafka.sh stop ends it" ;;
    esac
}

stop() {
    if ! running; then
        rm -f "$pidfile"
        return
    fi
    local pid
    pid="$(cat "$pidfile")"
    say "stopping the broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    # A clean shutdown flushes the logs and takes a few seconds; past 30 s it is stuck.
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "still running after 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$pidfile"
}

# The test harness starts every run from empty storage: no topic a killed run left behind
# outlives it.
purge() {
    stop
    rm -rf "$run/data"
}

status() {
    if running && wait_answering 0 "$(cat "$pidfile")"; then
        echo "KAFKA_BOOTSTRAP=$bootstrap"
    else
        say "not running (or not answering) on $bootstrap"
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
