#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing.
set -euo pipefail

# jq: a quicksell-cache stats example pipes into it (the help-example test runs every example).
# pgbackrest: scripts/backup.sh and the restore drill (BackupRestoreDrillTests); zlib1g-dev: the CSV.gz exports.
# The last five: client libraries of other languages that the compatibility suite drives
# (Tests/compat), with the interpreters they need.
packages=(redis-server redis-tools libpq-dev libssl-dev libhiredis-dev zlib1g-dev postgresql postgresql-contrib pgbackrest pkg-config nutcracker jq
          python3-pip php-cli php-redis ruby ruby-redis node-redis)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all Debian packages present"
else
    echo "install-deps: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "install-deps: Debian packages installed"
fi

# The Python clients the compatibility suite drives (from PyPI), each only when missing:
# module, PyPI requirement, lowest major version.
pip_install() {
    echo "install-deps: installing $2 from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$2" \
        || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --break-system-packages "$2"
}
for entry in "redis redis>=8,<9 8" "valkey valkey>=6,<7 6" "coredis coredis>=6,<7 6"; do
    read -r module requirement major <<<"$entry"
    if ! python3 -c "import $module, sys; sys.exit(0 if int($module.__version__.split('.')[0]) >= $major else 1)" 2>/dev/null; then
        pip_install "$module" "$requirement"
    fi
done
