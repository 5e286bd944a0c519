#!/bin/sh
# The Cloudflare benchmarks, inside workerd (miniflare from render/cloudflare/workerd, hono 4.13.19 from its
# lockfile: bash scripts/install-test-deps.sh installs both). Run from the repository root:
#   sh bench/cloudflare/run.sh [ROUNDS]
# It builds the benchmark Worker (go run ./bench/cloudflare: router tables, the generated matchers, the same
# tables as Hono routes, JWT policies and tokens) and times it from node (bench/cloudflare/bench.mjs explains
# how: workerd freezes its clocks inside a request, so node times whole requests of N and 2N iterations).
# It prints, per table, the generated matcher's agreement with the reference gateway and the median time
# per match of each matcher with its ratio to the best Hono router; the init time at 1,000 routes; and per
# JWT algorithm the full verification beside crypto.subtle.verify alone, with the key imports of the warm
# path. Then the whole-request benchmark (seed.mjs): the seed scenario rendered by edgegw beside the same
# behaviour as a Hono app, both proxying to a loopback origin, with time per request, workerd's CPU p50/p99
# and the ratios.
# Exit status 1 when a goal is not met or a check fails. BENCH_CLOCK=cpu times workerd's CPU time instead of
# wall-clock time (Linux), for a machine shared with other work.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go run ./bench/cloudflare -out "$work/worker.js"
status=0
node bench/cloudflare/bench.mjs "$work/worker.js" "${1:-7}" || status=$?
mkdir "$work/seed"
go run ./bench/cloudflare -seed "$work/seed"
node bench/cloudflare/seed.mjs "$work/seed" "${1:-7}" || status=$?
exit "$status"
