#!/usr/bin/env bash
# Runs docs/quickstart.md as written, so that the page cannot rot: its first `sh` block (./run.sh)
# starts the server on a fresh data folder and a free port; every other `sh` block runs after it,
# in order, as one bash script (set -euo pipefail), in a scratch folder that stands in for the
# repository root (./run.sh and ./p11kms there call the real ones, data/ is the fresh folder).
# Then it starts the server again the way a returning user does, on another port: run.sh must not
# build again, must say that it changed the port, and ./p11kms must reach the server there.
# Fails when the server does not start or any command fails. Stops the server and removes the
# scratch folder in every case.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
page=$root/docs/quickstart.md
work=$(mktemp -d)
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A port nothing listens on (bash's /dev/tcp connects, or fails when the port is free).
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    if ! (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# The page's sh blocks, one file each: block.1, block.2, ...
awk -v dir="$work" '
  /^```sh[[:space:]]*$/ { n++; inside = 1; next }
  /^```/ && inside { inside = 0; next }
  inside { print > (dir "/block." n) }
' "$page"
blocks=$(find "$work" -name 'block.*' | wc -l)
if [ "$blocks" -lt 2 ] || [ "$(tr -d '[:space:]' <"$work/block.1")" != "./run.sh" ]; then
  echo "quickstart: $page must start with a sh block holding only ./run.sh, then more sh blocks" >&2
  exit 1
fi

for command in run.sh p11kms; do
  printf '#!/bin/sh\nexec "%s/%s" "$@"\n' "$root" "$command" >"$work/$command"
  chmod +x "$work/$command"
done
export P11KMS_DATA_DIR=$work/data
P11KMS_PORT=$(free_port)
export P11KMS_PORT
unset P11KMS_ENDPOINT SOFTHSM2_CONF

cd "$work"

# Starts ./run.sh in the background with its output in $1 and waits until it serves.
start_server() {
  ./run.sh >"$1" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + ${P11KMS_QUICKSTART_START_SECONDS:-900}))
  until grep -q "^p11kms listening on " "$1"; do
    if ! kill -0 "$server_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "quickstart: the server did not start; its output:" >&2
      cat "$1" >&2
      exit 1
    fi
    sleep 1
  done
  grep "^run.sh: " "$1"
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

echo "quickstart: ./run.sh (data in $P11KMS_DATA_DIR, port $P11KMS_PORT)"
start_server server.log

{
  echo "set -euo pipefail -x"
  for i in $(seq 2 "$blocks"); do
    cat "block.$i"
  done
} >steps.sh
started=$SECONDS
if ! bash steps.sh; then
  echo "quickstart: a command of $page failed (above); the server's output:" >&2
  cat server.log >&2
  exit 1
fi
echo "quickstart: every command of docs/quickstart.md ran ($((blocks - 1)) blocks after ./run.sh, $((SECONDS - started)) s)"

stop_server
old_port=$P11KMS_PORT
P11KMS_PORT=$(free_port)
echo "quickstart: ./run.sh again, P11KMS_PORT=$P11KMS_PORT (was $old_port)"
start_server again.log
grep -q "^run.sh: sources unchanged since the last build" again.log ||
  { echo "quickstart: run.sh built again with no source changed" >&2; exit 1; }
grep -q "^run.sh: P11KMS_PORT=$P11KMS_PORT: listen.port changed from $old_port to $P11KMS_PORT" again.log ||
  { echo "quickstart: run.sh did not say that it moved to the new port" >&2; exit 1; }
grep -q "^p11kms listening on 127.0.0.1:$P11KMS_PORT\$" again.log ||
  { echo "quickstart: the server is not on the new port" >&2; exit 1; }
./p11kms kms list-keys >/dev/null
echo "quickstart: run.sh again: no build, the new port, and ./p11kms found it"
