#!/usr/bin/env bash
# Installs flatc, the FlatBuffers compiler, from Debian's flatbuffers-compiler package if it is
# not there. `make flatbuffers` generates gateways/openshock/wire/ with it, and a unit test
# regenerates that code to check that nobody edited it by hand, so the tests need it too.
set -euo pipefail
# shellcheck source=infra/services/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

command -v flatc >/dev/null && exit 0
install_package flatbuffers-compiler \
    || { echo "apt-get could not install flatbuffers-compiler (flatc)" >&2; exit 1; }
