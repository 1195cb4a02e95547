#!/usr/bin/env bash
# Install the Debian packages the kiosk needs (as root), or print the exact apt line and stop.
#   scripts/sysdeps.sh run    what `make run` needs (Qt on X11, speech, audio)
#   scripts/sysdeps.sh test   plus what the test suite needs (PulseAudio, Xvfb, PostgreSQL)
set -euo pipefail
RUN_PKGS="libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  espeak-ng libespeak-ng1 libportaudio2 python3-venv"
TEST_PKGS="pulseaudio pulseaudio-utils libasound2-plugins alsa-utils xvfb x11-apps netpbm
  postgresql sqlite3 systemd libxtst6 openssl"
case "${1:-run}" in
  run) pkgs=$RUN_PKGS ;;
  test) pkgs="$RUN_PKGS $TEST_PKGS" ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "These system packages are missing. Install them, then run make again:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
