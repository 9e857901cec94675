#!/usr/bin/env bash
# Installs everything tlc needs on a fresh Debian 12 machine (run as root):
# Mesa's lavapipe from bookworm-backports when no GPU driver is present (Dawn needs Mesa >= 24),
# Chromium for the browser tests, and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if command -v apt-get >/dev/null; then
  src=/etc/apt/sources.list.d/bookworm-backports.sources
  if [ ! -f "$src" ] && grep -qs bookworm /etc/os-release; then
    # Same mirror and key as the main Debian source, backports suite.
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    $SUDO tee "$src" >/dev/null <<SRC
Types: deb
URIs: ${uri:-http://deb.debian.org/debian}
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  $SUDO apt-get update -qq
  if ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq libvulkan1
  elif [ -f "$src" ]; then
    $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
  else
    $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1
  fi
  $SUDO apt-get install -y -qq chromium
fi

npm install --no-audit --no-fund
