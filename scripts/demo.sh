#!/usr/bin/env bash
# The main job: deploy the example stack, print the plan, the summary and the outputs,
# and draw the diagram. Running it again changes nothing.
# Tear down with: STRATA_PASSPHRASE=strata-demo cargo run --example shop -- destroy --yes
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strata-target}"
# Secrets are encrypted in state with this passphrase; the demo uses a fixed one unless
# you set your own.
export STRATA_PASSPHRASE="${STRATA_PASSPHRASE:-strata-demo}"
cargo build --quiet --example shop
shop="$CARGO_TARGET_DIR/debug/examples/shop"
"$shop" up --yes "$@"
mkdir -p .strata
"$shop" graph --format svg --output .strata/shop.svg "$@"
echo "diagram: $(pwd)/.strata/shop.svg"
