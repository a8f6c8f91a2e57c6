#!/usr/bin/env bash
# Installs what faustperf needs on Debian/Ubuntu (when missing), then:
#   ./setup.sh run   builds faustperf and analyzes the bundled freeverb fixture
#   ./setup.sh test  runs the whole test suite (fmt, clippy, unit and end-to-end tests)
set -euo pipefail
cd "$(dirname "$0")"

# faust: libfaust, its headers and libraries, and the faust command (the cpp backend's C++);
# g++: Faust's fastmath.cpp and the cpp backend; fonts-dejavu-core: the text of PNG charts for
# MCP clients; jackd2 and the JACK and ALSA headers: `profile --audio` (cpal) and its tests
# against a dummy JACK server; llvm-14 and llvm-14-dev: `inspect` reads libfaust's LLVM IR with
# inkwell, linked to the same libLLVM-14.so; valgrind: `--counters` counts instructions under
# its callgrind.
packages=(faust g++ fonts-dejavu-core pkg-config jackd2 libjack-jackd2-dev libasound2-dev llvm-14 llvm-14-dev valgrind)
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

# The real MCP clients the tests drive, in .tools/: the Python `mcp` package in a venv, and the
# MCP Inspector's CLI, which needs Node.js 22 (installed from the npm registry, beside the
# system's npm).
mcp_clients() {
  if ! command -v npm >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm python3-venv >/dev/null
  fi
  if ! .tools/venv/bin/python -c "import mcp" 2>/dev/null; then
    echo "setup: installing the Python mcp client in .tools/venv" >&2
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install -q "mcp==2.3.0"
  fi
  if [ ! -x .tools/node/node_modules/.bin/mcp-inspector ] || [ ! -x .tools/node/node_modules/.bin/node ]; then
    echo "setup: installing Node.js 22 and the MCP Inspector in .tools/node" >&2
    npm install --prefix .tools/node --no-audit --no-fund --loglevel=error \
      node@22 @modelcontextprotocol/inspector@2.12.0
  fi
}

# Headless Chromium, which opens the HTML reports in the tests.
browser() {
  if ! command -v chromium >/dev/null; then
    echo "setup: installing chromium" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}

case "${1:-run}" in
  run)
    cargo build --release --quiet
    ./target/release/faustperf analyze fixtures/freeverb.dsp
    ;;
  test)
    # A jackd killed earlier leaves its entry in JACK's shared registry, and new servers then
    # fail with "Too many servers already active". With no jackd running, nothing uses them.
    if ! pgrep -x jackd >/dev/null; then rm -rf /dev/shm/jack-* /dev/shm/jack_* 2>/dev/null || true; fi
    mcp_clients
    browser
    cargo fmt --all -- --check
    cargo clippy --all-targets --quiet -- -D warnings
    cargo test --tests
    ;;
  *)
    echo "usage: ./setup.sh [run|test]" >&2
    exit 2
    ;;
esac
