#!/usr/bin/env bash
# Install Debian's SLURM + MUNGE packages for the single-node test cluster (idempotent).
# Needs root and apt-get (CI container); does nothing when the daemons are already installed.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install.sh: ${PACKAGES[*]} already installed"
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "install.sh: missing ${missing[*]}; install them as root with apt-get" >&2
    exit 1
fi
echo "install.sh: installing ${missing[*]}"
apt-get update -qq
# policy-rc.d in containers refuses to start services here: fine, cluster.sh starts them by hand.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
