#!/usr/bin/env bash
# Installs the Debian packages leadscore needs, only those that are missing.
# Safe to run again; does nothing when everything is present.
set -euo pipefail
pkgs=(cmake g++ make pkg-config libabsl-dev libprotobuf-dev protobuf-compiler
      libgtest-dev libgmock-dev libbenchmark-dev libre2-dev zlib1g-dev libsimdjson-dev python3
      postgresql libpq-dev
      chromium fonts-dejavu-core)  # tests/report_test.sh renders the HTML report
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
