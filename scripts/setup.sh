#!/usr/bin/env bash
# Installs everything the test suite needs, idempotently: Debian packages (independent
# implementations to cross-check against, socat for pseudo-terminals, a real MQTT broker,
# headless Chromium and a QR decoder (zbarimg) for the page tests, openssl for bench TLS
# certificates, libsecp256k1 for the native signer and the benchmark's reference) and
# the npm packages from the lockfile. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  socat
  python3-can
  python3-cbor2
  python3-cryptography
  python3-ecdsa
  libsecp256k1-dev
  mosquitto
  chromium
  pkg-config
  libxml2-utils
  openssl
  zbar-tools
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "setup: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.voltrail-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
# The optional native signer: built where a compiler and libsecp256k1 exist, a note otherwise.
node scripts/build-native.mjs
echo "setup: ready"
