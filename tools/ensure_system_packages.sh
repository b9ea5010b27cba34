#!/usr/bin/env bash
# Installs the Debian packages the end-to-end tests need (Slurm + munge) when they are missing.
# CI machines and new developer machines start empty: the project installs what it needs.
set -euo pipefail
needed=(slurmctld slurmd slurm-client munge)
missing=()
for bin in slurmctld slurmd sbatch munged; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: Slurm and munge already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages: missing ${missing[*]}; install ${needed[*]} (Debian/Ubuntu: apt-get install ${needed[*]}) and run again" >&2
  exit 1
fi
echo "system packages: installing ${needed[*]} (missing: ${missing[*]})"
export DEBIAN_FRONTEND=noninteractive
timeout 600 apt-get update -qq
timeout 900 apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
echo "system packages: done"
