#!/bin/sh
# Benchmark: dnscheck.Run on 1,000 names vs zdns A lookups of the same names,
# both against the same local knotd, in the same run. Needs knotd (Debian:
# apt-get install -y knot). zdns is built from bench/dns/tools.mod so it never
# enters the main go.mod. Extra arguments go to the benchmark (-n, -runs).
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -modfile=bench/dns/tools.mod -o "$tmp/zdns" github.com/zmap/zdns/v2
go run ./bench/dns -zdns "$tmp/zdns" "$@"
