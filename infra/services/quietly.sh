#!/usr/bin/env bash
# Runs one setup step (pip, npm, apt-get, Maven, initdb, …) with its output in the
# checkout's setup log instead of the terminal, and shows the end of that output only if
# the step fails.
#
#   quietly.sh "what it does" command [args…]      from make
#   quietly "what it does" command [args…]         after sourcing it (shell functions work)
#
# The log is $HUBLINE_RUN_DIR/setup.log (see checkout.sh); the step's exit status is kept.

# shellcheck source=infra/services/checkout.sh
source "$(dirname "${BASH_SOURCE[0]}")/checkout.sh"

quietly() {
    local what="$1" log="$HUBLINE_RUN_DIR/setup.log" step status=0
    shift
    mkdir -p "$HUBLINE_RUN_DIR"
    step="$(mktemp "$HUBLINE_RUN_DIR/.step.XXXXXX")"
    "$@" </dev/null >"$step" 2>&1 || status=$?
    { echo "=== $(date -Is) $what: $*"; cat "$step"; echo "=== exit status $status"; } >>"$log"
    if [ "$status" -ne 0 ]; then
        echo "$what failed (exit status $status); the end of its output (all of it is in $log):" >&2
        tail -n 40 "$step" >&2
    fi
    rm -f "$step"
    return "$status"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ "$#" -ge 2 ] || { echo "usage: $0 \"what it does\" command [args…]" >&2; exit 2; }
    quietly "$@"
fi
