#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, so `make test` passes on a fresh machine.
# Idempotent: tools already present are left alone.
#   - knotd, kdig (Debian knot, knot-dnsutils): the real authoritative DNS server dnscheck is tested against
#   - node, perl: manifest/regexsafe runs every accepted regex in JavaScript and Perl (a PCRE-family engine)
#     to prove the portable subset means the same everywhere
#   - falco (github.com/ysugimoto/falco, pinned in tools/falco/go.mod, a separate modfile so its dependencies
#     stay out of go.mod): render/fastly lints every rendered VCL and runs it in falco's simulator
set -euo pipefail

need_apt=()
command -v knotd >/dev/null 2>&1 || need_apt+=(knot)
command -v kdig >/dev/null 2>&1 || need_apt+=(knot-dnsutils)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v perl >/dev/null 2>&1 || need_apt+=(perl)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "install-test-deps: need root to install ${need_apt[*]} (apt-get install -y ${need_apt[*]})" >&2
      exit 1
    fi
  else
    SUDO=
  fi
  echo "install-test-deps: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Go modules the tests need, so the first `go test` does not time out fetching them.
go mod download

# falco, built once into the Go build cache: `go tool` reuses it on every later call, so the tests' first call
# does not pay for the build.
go mod download -modfile=tools/falco/go.mod
go build -modfile=tools/falco/go.mod -o /dev/null github.com/ysugimoto/falco/cmd/falco
(cd tools/falco && go build -o /dev/null ./simulate)
