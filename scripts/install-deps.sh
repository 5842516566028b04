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
  rsyslog nftables   # system tests: rsyslog's omfwd as a TCP client; segment loss
  python3-statsd     # system tests: a real StatsD client
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
# Packages such as rsyslog start their daemon on install: a system
# rsyslogd would take /dev/log and run on after us. A policy-rc.d that
# answers 101 (action forbidden) stops invoke-rc.d from starting anything;
# ours is removed afterwards, one that was already there is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
