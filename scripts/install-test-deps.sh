#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, so `make test` passes on a fresh machine.
# Idempotent: tools already present are left alone.
#   - knotd, kdig (Debian knot, knot-dnsutils): the real authoritative DNS server dnscheck is tested against
#   - node, perl: manifest/regexsafe runs every accepted regex in JavaScript and Perl (a PCRE-family engine)
#     to prove the portable subset means the same everywhere; render/jsruntime's unit tests run in node
#   - npm and the npm packages pinned in render/cloudflare/workerd/package-lock.json (miniflare, which brings
#     workerd): the cloudflare target's Worker is tested in the real Workers runtime
#   - falco (github.com/ysugimoto/falco, pinned in tools/falco/go.mod, a separate modfile so its dependencies
#     stay out of go.mod): render/fastly lints every rendered VCL and runs it in falco's simulator
#   - njs (Debian njs, the engine CloudFront Functions' cloudfront-js-2.0 is built on): render/cloudfront's
#     functions run in the njs CLI
set -euo pipefail

need_apt=()
command -v knotd >/dev/null 2>&1 || need_apt+=(knot)
command -v kdig >/dev/null 2>&1 || need_apt+=(knot-dnsutils)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v perl >/dev/null 2>&1 || need_apt+=(perl)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v njs >/dev/null 2>&1 || need_apt+=(njs)

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

# npm packages, from the lockfile only (npm ci); skipped when node_modules was installed from this very
# lockfile (a stamp of its digest) and workerd is there.
workerd_dir="$(cd "$(dirname "$0")/../render/cloudflare/workerd" && pwd)"
lock_sum="$(sha256sum "$workerd_dir/package-lock.json" | cut -d' ' -f1)"
stamp="$workerd_dir/node_modules/.edgegw-lock.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ] || [ ! -d "$workerd_dir/node_modules/miniflare" ]; then
  echo "install-test-deps: npm ci in render/cloudflare/workerd" >&2
  (cd "$workerd_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$stamp"
fi

# Go modules the tests need, so the first `go test` does not time out fetching them.
go mod download

# falco, built once into the Go build cache: `go tool` reuses it on every later call, so the tests' first call
# does not pay for the build.
go mod download -modfile=tools/falco/go.mod
go build -modfile=tools/falco/go.mod -o /dev/null github.com/ysugimoto/falco/cmd/falco
(cd tools/falco && go build -o /dev/null ./simulate)
