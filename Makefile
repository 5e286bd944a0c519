# The one test command: installs what the tests need, then runs every test.
.PHONY: test deps build demo bench fuzz

test: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	go vet ./...
# 30m, not the 10m default per test binary: render/cloudflare/workerd starts a fresh workerd for each of the
# conformance corpus's 500-odd cases, about four minutes on a quiet machine and twice that on a busy one.
	go test -count=1 -timeout 30m ./...

deps:
	bash scripts/install-test-deps.sh

build:
	go build -o edgegw .

# The README's quick start, end to end, in a throw-away git repository (scripts/demo.sh).
demo: build
	EDGEGW=$(CURDIR)/edgegw bash scripts/demo.sh

# Benchmarks print ratios against a baseline measured in the same run.
bench:
	go test -run XXX -bench . -benchmem -count 5 ./manifest/ ./gateway/...
	bash bench/dns/run.sh
	bash bench/rollback/run.sh
	-sh bench/cloudflare/run.sh

fuzz:
	go test ./manifest/ -run XXX -fuzz FuzzLoad -fuzztime 10m -fuzzminimizetime 5s
