#!/usr/bin/env bash
# Tether set-up: installs what is missing, idempotently, on Debian 12 with Swift 6.3 and Python 3.11.
#   - Debian packages the build and the tests need (apt-get, only when missing)
#   - a project-local Python venv (.venv) with the pinned wheels of tools/requirements.lock:
#     MuJoCo (mujoco-core), ONNX Runtime, and the independent peers the tests compare against;
#     the vendor's Unitree SDK beside them, without its dependencies
#   - .native/: MuJoCo's headers and library linked where Package.swift looks for them
# Usage: scripts/setup.sh            (safe to run again; does nothing that is already done)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say()  { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
fail() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

# --- Swift ---------------------------------------------------------------------------------------
command -v swift >/dev/null 2>&1 || fail "Swift is not on PATH. Install Swift 6.3 for Debian 12 \
(https://www.swift.org/install/linux/) and put its usr/bin on PATH, then run this again."
swift_version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1.\2/p' | head -1)
case "$swift_version" in
  6.*) ;;
  *) fail "Swift 6.x is required, found '${swift_version:-unknown}' ($(command -v swift)). Install Swift 6.3." ;;
esac

# --- Debian packages -----------------------------------------------------------------------------
# pkg-config: native library discovery; cyclonedds-dev: Cyclone DDS 0.10 (ROS 2's DDS) for TetherROS;
# cyclonedds-tools: ddsperf, the peer of `tether bench ros2`; libjpeg62-turbo-dev, libpng-dev: image codecs of TetherVision;
# libsqlite3-dev: SQLite for GRDB (the history database);
# libegl-dev, libgl-dev, libegl-mesa0, libgl1-mesa-dri: headless OpenGL (EGL, Mesa's llvmpipe) for `tether render`;
# ffmpeg: the H.264 encoder of `tether render` and ffprobe, the tests' independent decoder.
DEB_PACKAGES=(pkg-config ca-certificates cyclonedds-dev cyclonedds-tools libjpeg62-turbo-dev libpng-dev libsqlite3-dev
              libegl-dev libgl-dev libegl-mesa0 libgl1-mesa-dri ffmpeg)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    fail "Debian packages missing: ${missing[*]}. Run this script as root or install them: apt-get install ${missing[*]}"; fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Python venv ---------------------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || fail \
  "Python 3.11 is not on PATH (looked for '$PYTHON'). Install python3 (Debian: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11."
py_version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$py_version" in
  3.1[1-9]) ;;
  *) fail "Python >= 3.11 is required for the pinned wheels, found $py_version at $(command -v "$PYTHON")." ;;
esac
LOCK=tools/requirements.lock
STAMP=.venv/.tether-lock
if [ ! -x .venv/bin/python ] || ! cmp -s "$LOCK" "$STAMP"; then
  if [ ! -x .venv/bin/python ]; then
    say "creating the Python venv in .venv"
    "$PYTHON" -m venv .venv 2>/dev/null || fail "'$PYTHON -m venv' failed: the venv module is missing. Debian: apt-get install python3-venv"
  fi
  say "installing pinned wheels from $LOCK (MuJoCo, ONNX Runtime, test peers)"
  .venv/bin/pip install -q --disable-pip-version-check -r "$LOCK" \
    || fail "pip could not install the pinned wheels of $LOCK (see pip's message above). Check that PyPI is reachable."
  cp "$LOCK" "$STAMP"
fi

# The vendor's Unitree SDK (unitree_sdk2py), the independent peer of the Unitree protocol tests: its
# IDL classes and CRC helper. Installed without its dependencies, which pin an old cyclonedds; it
# runs on the venv's own (keep it out of $LOCK for that reason: pip freeze lists it, drop that line).
UNITREE_SDK_VERSION=1.0.1
if [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("unitree-sdk2"))' 2>/dev/null)" != "$UNITREE_SDK_VERSION" ]; then
  say "installing unitree-sdk2==$UNITREE_SDK_VERSION without dependencies (the Unitree tests' peer)"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps "unitree-sdk2==$UNITREE_SDK_VERSION" \
    || fail "pip could not install unitree-sdk2==$UNITREE_SDK_VERSION (see pip's message above). Check that PyPI is reachable."
fi

# --- Native libraries for SwiftPM ---------------------------------------------------------------
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
MJ_DIR="$SITE/mujoco"
[ -f "$MJ_DIR/include/mujoco/mujoco.h" ] || fail "MuJoCo headers not found in $MJ_DIR/include (is mujoco-core==4.0.0 in $LOCK?)"
MJ_LIB=$(ls "$MJ_DIR"/libmujoco.so.* 2>/dev/null | head -1)
[ -n "$MJ_LIB" ] || fail "libmujoco.so.* not found in $MJ_DIR"
mkdir -p .native/include .native/lib
ln -sfn "$MJ_DIR/include/mujoco" .native/include/mujoco
ln -sfn "$MJ_LIB" ".native/lib/$(basename "$MJ_LIB")"
ln -sfn "$MJ_LIB" .native/lib/libmujoco.so
say "ready: Swift $swift_version, Python $py_version, MuJoCo $(basename "$MJ_LIB" | sed 's/libmujoco.so.//')"
