#!/usr/bin/env bash
# Installs the Debian 12 packages sluice needs to build, test and run the
# demo. Installs only what is missing; runs apt-get update first when it
# has to install anything. Needs root for that.
set -euo pipefail

PKGS=(
  # build
  gcc make meson ninja-build pkg-config python3
  libdpdk-dev libhyperscan-dev libzstd-dev librdkafka-dev libyaml-dev
  zlib1g-dev   # perf/bench_log.c compares zlib with zstd
  # tests: unit, sanitizers, fuzzing, system
  libcmocka-dev libpcre2-dev clang libclang-rt-14-dev
  iproute2 iputils-ping bsdutils netcat-openbsd kcat ethtool procps
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
