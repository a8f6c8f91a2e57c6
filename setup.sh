#!/usr/bin/env bash
# Installs what faustperf needs on Debian/Ubuntu (when missing), then:
#   ./setup.sh run   builds faustperf and analyzes the bundled freeverb fixture
#   ./setup.sh test  runs the whole test suite (fmt, clippy, unit and end-to-end tests)
set -euo pipefail
cd "$(dirname "$0")"

# faust: libfaust, its headers and libraries; g++: Faust's fastmath.cpp; jackd2 and the JACK and
# ALSA headers: `profile --audio` (cpal) and its tests against a dummy JACK server; llvm-14 and
# llvm-14-dev: `inspect` reads libfaust's LLVM IR with inkwell, linked to the same libLLVM-14.so.
packages=(faust g++ pkg-config jackd2 libjack-jackd2-dev libasound2-dev llvm-14 llvm-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust (https://rustup.rs)" >&2; exit 1; }

case "${1:-run}" in
  run)
    cargo build --release --quiet
    ./target/release/faustperf analyze fixtures/freeverb.dsp
    ;;
  test)
    # A jackd killed earlier leaves its entry in JACK's shared registry, and new servers then
    # fail with "Too many servers already active". With no jackd running, nothing uses them.
    if ! pgrep -x jackd >/dev/null; then rm -rf /dev/shm/jack-* /dev/shm/jack_* 2>/dev/null || true; fi
    cargo fmt --all -- --check
    cargo clippy --all-targets --quiet -- -D warnings
    cargo test --tests
    ;;
  *)
    echo "usage: ./setup.sh [run|test]" >&2
    exit 2
    ;;
esac
