#!/usr/bin/env bash
# The main job: deploy the e-commerce platform (examples/ecommerce.rs) to the local AWS,
# print the plan, the summary and the stack outputs, and draw the architecture diagram.
# Running it again changes nothing.
#
#   bash scripts/demo.sh            # install and start the local AWS if needed, then up
#   bash scripts/demo.sh destroy    # tear it down (lifts the database's deletion
#                                   # protection first, as a production teardown must,
#                                   # and lets the log buckets be emptied: a demo's logs
#                                   # need not outlive it)
#
# Without AWS_ENDPOINT_URL set, it uses moto on 127.0.0.1:${STRATA_DEMO_PORT:-5555}, with
# test credentials, in eu-central-1. State is in .strata/ (file backend), its secrets
# encrypted with STRATA_PASSPHRASE (a fixed demo passphrase unless you set one).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/strata-target}"
export STRATA_PASSPHRASE="${STRATA_PASSPHRASE:-strata-demo}"
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  port="${STRATA_DEMO_PORT:-5555}"
  endpoint="$(bash scripts/local-aws.sh ensure "$port")"
  export "${endpoint?}"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-central-1
fi
cargo build --quiet --example ecommerce
shop="$CARGO_TARGET_DIR/debug/examples/ecommerce"
if [ "${1:-}" = "destroy" ]; then
  shift
  "$shop" --stack shop up --yes --config deletion_protection=false --config force_destroy_logs=true "$@"
  "$shop" --stack shop destroy --yes "$@"
  exit 0
fi
"$shop" --stack shop up --yes "$@"
mkdir -p .strata
"$shop" --stack shop graph --format svg --output .strata/ecommerce.svg
echo "diagram: $(pwd)/.strata/ecommerce.svg"
