#!/usr/bin/env bash
# The local AWS: moto in server mode, pinned, in a project-local virtualenv.
#
#   bash scripts/local-aws.sh install        # install moto[server] if missing (idempotent)
#   bash scripts/local-aws.sh start [PORT]   # install if needed, start on 127.0.0.1:PORT
#                                            # (default 5555) and print the endpoint
#   bash scripts/local-aws.sh ensure [PORT]  # start it unless one already answers there
#   bash scripts/local-aws.sh stop           # stop the server `start` started
#   bash scripts/local-aws.sh path           # print the moto_server executable
#
# STRATA_VENV overrides the virtualenv (default: .venv in the repository).
set -euo pipefail
MOTO_VERSION="5.2.5"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${STRATA_VENV:-$root/.venv}"
server="$venv/bin/moto_server"
run_dir="$root/.strata"

installed() {
  [ -x "$server" ] && "$venv/bin/python" - "$MOTO_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
}

install() {
  if installed; then
    return 0
  fi
  echo "installing moto[server]==$MOTO_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  installed || { echo "moto did not install correctly" >&2; exit 1; }
}

start() {
  install
  local port="${1:-5555}"
  mkdir -p "$run_dir"
  # scripts/moto_ext.py is moto's server with fixes of answers the AWS SDK refuses.
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 "$venv/bin/python" "$root/scripts/moto_ext.py" -H 127.0.0.1 -p "$port" >"$run_dir/moto.log" 2>&1 &
  echo $! >"$run_dir/moto.pid"
  for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
      # Lambda without Docker (these machines have none): moto registers functions and
      # answers invocations (Secrets Manager's rotation calls) with a fixed success. AWS
      # managed IAM policies exist, as on real AWS. (strata-testkit's CONFIG is the same.)
      "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$port/moto-api/config', data=b'{\"lambda\": {\"use_docker\": false}}', headers={'Content-Type': 'application/json'}), timeout=5)"
      echo "AWS_ENDPOINT_URL=http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "moto did not answer on port $port; see $run_dir/moto.log" >&2
  exit 1
}

answers() {
  "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/moto-api/', timeout=1)" 2>/dev/null
}

ensure() {
  install
  local port="${1:-5555}"
  if answers "$port"; then
    echo "AWS_ENDPOINT_URL=http://127.0.0.1:$port"
  else
    start "$port"
  fi
}

stop() {
  if [ -f "$run_dir/moto.pid" ]; then
    kill "$(cat "$run_dir/moto.pid")" 2>/dev/null || true
    rm -f "$run_dir/moto.pid"
  fi
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  ensure) shift; ensure "$@" ;;
  stop) stop ;;
  path) install; echo "$server" ;;
  *) echo "usage: $0 install | start [PORT] | ensure [PORT] | stop | path" >&2; exit 2 ;;
esac
