#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the screenshots need.
set -euo pipefail
PKGS=(cmake ninja-build g++ qt6-base-dev qt6-base-dev-tools qt6-svg-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools
      libqcustomplot-dev libqcustomplot2.1-qt6 libtorch-dev libopenblas0-pthread libhdf5-dev hdf5-tools zlib1g-dev
      nlohmann-json3-dev libxkbcommon-dev pkg-config
      libsndfile1-dev libsamplerate0-dev libpcre2-dev libstb-dev
      libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev ffmpeg xvfb xauth x11-apps imagemagick
      libopenmpi-dev openmpi-bin
      fonts-noto-cjk) # zh_CN and ja text (a stock Debian desktop has no CJK font)
# scripts/deps.sh --sanitize: also clang and its sanitizer / libFuzzer runtimes (scripts/sanitize.sh).
if [ "${1:-}" = "--sanitize" ]; then
  PKGS+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
