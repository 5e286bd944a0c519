#!/usr/bin/env bash
# The README's quick start, end to end, in a throw-away git repository under a temp dir: init, validate,
# test, plan, apply, serve with `edgegw dev`, edit, apply, rollback, history — checking what each request
# sees. Run it with `make demo` (which builds ./edgegw first).
#   EDGEGW     the edgegw binary to use (default: build one into the temp dir)
#   DEMO_PORT  the port `edgegw dev` listens on (default 8787)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${DEMO_PORT:-8787}
work=$(mktemp -d "${TMPDIR:-/tmp}/edgegw-demo.XXXXXX")
dev_pid=

cleanup() {
  if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
    kill -TERM "$dev_pid" 2>/dev/null || true # what Ctrl-C does: dev finishes requests in flight and stops
    wait "$dev_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -t 2 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain" >&2; }
run() { step "$*"; "$@"; }

edgegw=${EDGEGW:-}
if [ -z "$edgegw" ]; then
  step "go build -o $work/edgegw ."
  (cd "$repo" && go build -o "$work/edgegw" .)
  edgegw=$work/edgegw
fi
edgegw=$(cd "$(dirname "$edgegw")" && pwd)/$(basename "$edgegw")
edgegw() { "$edgegw" "$@"; }

# get PATH prints the body of GET http://127.0.0.1:$port/PATH; curl when there is one, bash's /dev/tcp
# otherwise, so the demo also runs on a machine without curl.
get() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 5 "http://127.0.0.1:$port$1"
    return
  fi
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
  sed '1,/^\r$/d' <&3
  exec 3<&-
}

# expect PATH WANT: one request, printed with what it saw, and the demo fails on anything else.
expect() {
  step "curl http://127.0.0.1:$port$1"
  local got
  got=$(get "$1") || got="(request failed)"
  printf '%s\n' "$got" >&2
  if [ "$got" != "$2" ]; then
    echo "demo: GET $1 answered \"$got\", want \"$2\"" >&2
    exit 1
  fi
}

mkdir "$work/demo"
cd "$work/demo"
git init -q .
git config user.name "edgegw demo"
git config user.email "demo@example.invalid"

run edgegw init
git add -A && git commit -qm "quick start"
run edgegw validate
run edgegw test
run edgegw plan
run edgegw apply --auto-approve

step "edgegw dev --listen 127.0.0.1:$port &"
# The binary itself, not the edgegw function: $! must be dev's own pid for the trap to stop it.
"$edgegw" dev --listen "127.0.0.1:$port" >"$work/dev.log" 2>&1 &
dev_pid=$!
for _ in $(seq 100); do
  if get /health >/dev/null 2>&1; then break; fi
  if ! kill -0 "$dev_pid" 2>/dev/null; then
    echo "demo: edgegw dev stopped:" >&2
    cat "$work/dev.log" >&2
    exit 1
  fi
  sleep 0.1
done
expect /health ok

run sed -i 's/body: ok}/body: ok-v2}/' edgegw.yaml
git commit -qam "v2"
run edgegw apply --auto-approve
expect /health ok-v2

run edgegw rollback
expect /health ok

run edgegw history

step "what edgegw dev logged"
cat "$work/dev.log" >&2
printf '\ndemo: every step did what the README says\n' >&2
