#!/usr/bin/env bash
# Renders the demo's diagram to PNG, to look at it: .strata/ecommerce.svg -> .strata/ecommerce.png
# (run scripts/demo.sh first). Installs CairoSVG into the project's virtualenv if missing;
# it needs the system's libcairo.
#
#   bash scripts/diagram-png.sh [SVG] [PNG]
set -euo pipefail
cd "$(dirname "$0")/.."
svg="${1:-.strata/ecommerce.svg}"
png="${2:-${svg%.svg}.png}"
venv="${STRATA_VENV:-.venv}"
bash scripts/local-aws.sh install
if ! "$venv/bin/python" -c "import cairosvg" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "cairosvg==2.7.1" >&2
fi
"$venv/bin/python" -c "import sys, cairosvg; cairosvg.svg2png(url=sys.argv[1], write_to=sys.argv[2])" "$svg" "$png"
"$venv/bin/python" - "$png" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(24)
w, h = struct.unpack(">II", head[16:24])
print(f"{sys.argv[1]}: {w}x{h}")
PY
