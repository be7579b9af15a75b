#!/usr/bin/env bash
# The test command: every test of the workspace, property tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strata-target}"
# The local AWS (moto) that the AWS tests run against; installed once, if missing.
bash scripts/local-aws.sh install
cargo test --workspace --all-features "$@"
