#!/bin/bash
# Start a private PulseAudio with two null sinks: real-time virtual audio devices for tests
# and benchmarks on a machine with no sound card and no kernel modules.
#   kiosk_out : the speaker;   kiosk_out.monitor records whatever was played (loopback)
#   mic_feed  : feed a WAV into it with `paplay -d mic_feed f.wav`; mic_feed.monitor is the microphone
# scripts/asoundrc (copied to $HOME/.asoundrc) names them for ALSA/sounddevice:
#   kiosk_speaker, kiosk_loop (what was played), kiosk_mic.
# Usage: eval "$(scripts/pa_setup.sh [STATE_DIR])"   -> exports the environment and PA_PID
# Stop:  kill "$PA_PID"
# apt: pulseaudio pulseaudio-utils libasound2-plugins alsa-utils (--no-install-recommends)
set -e
state=${1:-$(mktemp -d)}
mkdir -p "$state/home" "$state/run"; chmod 700 "$state/run"
export HOME="$state/home" XDG_RUNTIME_DIR="$state/run" XDG_CONFIG_HOME="$state/home/.config" \
       PULSE_RUNTIME_PATH="$state/run/pulse"
cp "$(dirname "$0")/asoundrc" "$HOME/.asoundrc"
pulseaudio --daemonize=yes -n --exit-idle-time=-1 --disallow-exit --disable-shm=yes \
  --log-target=file:"$state/pa.log" --log-level=notice \
  --load="module-native-protocol-unix" \
  --load="module-null-sink sink_name=kiosk_out rate=16000 channels=1" \
  --load="module-null-sink sink_name=mic_feed rate=16000 channels=1" >&2
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null 2>&1 || { echo "pa_setup: PulseAudio did not start (see $state/pa.log)" >&2; exit 1; }
pactl set-default-sink kiosk_out >&2
pactl set-default-source mic_feed.monitor >&2
pid=$(cat "$PULSE_RUNTIME_PATH/pid")
echo "export HOME='$HOME' XDG_RUNTIME_DIR='$XDG_RUNTIME_DIR' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' PULSE_RUNTIME_PATH='$PULSE_RUNTIME_PATH' PA_PID=$pid"
