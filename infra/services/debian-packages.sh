# Sourced by postgres.sh, redis.sh and flatc.sh: installs from Debian's packages. A server is
# for the project's private instance only: Debian starts a package's system service during
# the install and enables it at boot; neither may outlive the install here.
#
#   install_package PACKAGE                    a tool (no service)
#   install_without_service PACKAGE SERVICE    a server

# shellcheck source=infra/services/quietly.sh
source "$(dirname "${BASH_SOURCE[0]}")/quietly.sh"

install_package() {
    local package="$1" sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # A fresh machine may have no package lists yet: update only when the install fails,
    # and show apt-get's output only when the update does not help.
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >/dev/null 2>&1 \
        || { quietly "apt-get update" $sudo apt-get update -q \
             && quietly "apt-get install $package" \
                $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package"; }
}

install_without_service() {
    local package="$1" service="$2" sudo="" policy=/usr/sbin/policy-rc.d placed="" status=0
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Debian's maintainer scripts ask policy-rc.d before they start a service (invoke-rc.d,
    # deb-systemd-invoke), whether systemd runs or not; 101 means "not now". One that is
    # already there (container images ship one) is left as it is.
    if [ ! -e "$policy" ]; then
        $sudo sh -c "printf '#!/bin/sh\nexit 101\n' >'$policy' && chmod 755 '$policy'" && placed=1
    fi
    install_package "$package" || status=$?
    [ -z "$placed" ] || $sudo rm -f "$policy"
    [ "$status" -eq 0 ] || return "$status"
    # Best effort from here on: a failure is in the setup log, not on the terminal.
    # Enabling at boot is not the policy's to refuse. Without systemd as PID 1, systemctl
    # edits the unit links directly, and for services with an init script it runs
    # update-rc.d as well.
    if command -v systemctl >/dev/null; then
        quietly "systemctl disable $service" $sudo systemctl disable "$service" 2>/dev/null || true
    elif command -v update-rc.d >/dev/null; then
        quietly "update-rc.d $service disable" $sudo update-rc.d "$service" disable 2>/dev/null || true
    fi
    # A policy that was already there may have let the service start.
    quietly "service $service stop" $sudo service "$service" stop 2>/dev/null || true
}
