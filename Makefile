# PocketBase needs Go 1.27; go.mod names the toolchain and this lets the go
# command fetch it where the machine's Go is older.
export GOTOOLCHAIN := auto

# Tools the checks need, installed by `make tools` at pinned versions.
TOOLS       := $(CURDIR)/.tools
STATICCHECK := $(TOOLS)/staticcheck
STATICCHECK_VERSION := v0.8.2
STRIPE_MOCK := $(TOOLS)/stripe-mock
STRIPE_MOCK_VERSION := v0.203.0
MAILPIT := $(TOOLS)/mailpit
MAILPIT_VERSION := v1.27.11
# Litestream replicates the shop's database (deploy/litestream.yml); the
# failover drill runs it.
LITESTREAM := $(TOOLS)/litestream
LITESTREAM_VERSION := v0.5.18
# Debian's Chromium for the browser suite; playwright-core drives it.
CHROMIUM := /usr/bin/chromium

BIN  ?= ./shopdash
DATA ?= pb_data
ADDR ?= 127.0.0.1:8090

.PHONY: run build build-cgo sdk test unit fuzz e2e bench-smoke lint vet fmt-check staticcheck tools clean staff-screenshots drill types typecheck

## run: build, migrate, seed an empty shop with demo data, serve on $(ADDR)
run: build
	$(BIN) seed --dir $(DATA)
	@echo
	@echo "Customer page:   http://$(ADDR)/"
	@echo "Staff page:      http://$(ADDR)/staff/"
	@echo "Admin dashboard: http://$(ADDR)/_/   (first superuser: $(BIN) superuser upsert admin@example.com 'a-long-password' --dir $(DATA))"
	@echo
	@echo "Demo: staff sign in with the password alone (SHOPDASH_STAFF_MFA=off); a real shop asks them for an emailed code too."
	@echo
	SHOPDASH_STAFF_MFA=off $(BIN) serve --dir $(DATA) --http $(ADDR)

## build: the single binary, with the customer and staff pages and their SDK
## embedded (a plain `go build` or `go install` gives the same)
build:
	go build -trimpath -buildvcs=auto -o $(BIN) .

## sdk: refresh the pages' committed scripts from npm after changing the
## versions package-lock.json pins (the JS SDK, and Scalar for /api/docs);
## `make unit` checks each is the same bytes as its package
SDK := pb_public/vendor/pocketbase.umd.js
SCALAR := pb_public/vendor/scalar-api-reference.js
NODE_MODULES := node_modules/.package-lock.json
sdk: $(NODE_MODULES)
	cp node_modules/pocketbase/dist/pocketbase.umd.js $(SDK)
	cp node_modules/@scalar/api-reference/dist/browser/standalone.js $(SCALAR)
$(NODE_MODULES): package-lock.json
	npm ci --no-audit --no-fund

## test: everything CI runs: checks, unit and API tests, the binary end to end,
## the failover drill, and a seconds-long smoke run of the benchmark harness so
## it keeps working
test: lint typecheck unit fuzz e2e drill bench-smoke

bench-smoke:
	$(MAKE) bench BENCH_SMOKE=1

## types: regenerate what front-end developers build on after a collection or
## route changes: hooks/apidoc/openapi.json from the routes and collections,
## clients/ts/collections.d.ts and docs/schema.md from the
## migrated collections (internal/schemagen), clients/ts/api.d.ts from the
## OpenAPI document (openapi-typescript, pinned in package-lock.json)
TSC := node_modules/.bin/tsc
OPENAPI_DOC := hooks/apidoc/openapi.json
OPENAPI_TS := node_modules/.bin/openapi-typescript $(OPENAPI_DOC) --empty-objects-unknown -o clients/ts/api.d.ts
types: $(NODE_MODULES)
	go test -count=1 -run '^TestCommittedDocumentIsCurrent$$' ./hooks/apidoc/ -update
	go test -count=1 -run '^TestGeneratedFilesAreCurrent$$' ./internal/schemagen/ -update
	$(OPENAPI_TS)

## typecheck: the committed types are what `make types` writes, and they and
## the two pages (plain JavaScript with JSDoc types) compile with tsc
typecheck: $(NODE_MODULES)
	go test -count=1 -run '^TestGeneratedFilesAreCurrent$$' ./internal/schemagen/
	$(OPENAPI_TS) --check || { echo "clients/ts/api.d.ts is not what $(OPENAPI_DOC) gives: run make types"; exit 1; }
	$(TSC) -p clients/ts
	$(TSC) -p clients/ts/pages

unit: $(NODE_MODULES)
	SHOPDASH_SDK_CHECK=1 go test -count=1 ./...

## fuzz: each fuzz target for FUZZTIME, one after the other, after replaying its
## seeds and its committed corpus (testdata/fuzz/); a crasher is written there
FUZZTIME ?= 3s
FUZZ_TARGETS = ./collections/:FuzzAddressNormaliseAndValidate ./collections/:FuzzNormaliseLine \
	./hooks/access/:FuzzCheckQueryCost ./hooks/customer/:FuzzPurchasesQuery \
	./hooks/payments/:FuzzCheckoutBody ./hooks/payments/:FuzzStripeEventObjects
# A target missing from its package fails here: `go test -fuzz` would pass
# without fuzzing anything.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t#*:}; \
		go test -list "^$$name\$$" $$pkg | grep -qx "$$name" || { echo "fuzz target $$name is not in $$pkg"; exit 1; }; \
		echo "go test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; done

## e2e: the built binary against stripe-mock, Mailpit, the JS SDK and Chromium (installed by `make tools`)
e2e: build $(NODE_MODULES) $(STRIPE_MOCK) $(MAILPIT) $(CHROMIUM)
	SHOPDASH_BIN=$(abspath $(BIN)) STRIPE_MOCK_BIN=$(STRIPE_MOCK) MAILPIT_BIN=$(MAILPIT) go test -tags e2e -count=1 -v ./e2e/

lint: fmt-check vet staticcheck

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags no_default_driver .
	$(STATICCHECK) -tags e2e ./e2e/

$(STATICCHECK):
	GOBIN=$(TOOLS) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(STRIPE_MOCK):
	GOBIN=$(TOOLS) go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium

$(MAILPIT):
	GOBIN=$(TOOLS) go install github.com/axllent/mailpit@$(MAILPIT_VERSION)

$(LITESTREAM):
	GOBIN=$(TOOLS) go install github.com/benbjohnson/litestream/cmd/litestream@$(LITESTREAM_VERSION)

## tools: what the checks, end-to-end tests and the drill need, installed idempotently
tools: $(STATICCHECK) $(STRIPE_MOCK) $(MAILPIT) $(LITESTREAM) $(CHROMIUM) $(NODE_MODULES)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	go vet -tags no_default_driver .
	go vet -tags e2e ./e2e/

clean:
	rm -rf $(BIN) $(DATA)

## build-cgo: the binary with the cgo SQLite driver (needs gcc; see docs/decisions/0004-sqlite-driver.md)
build-cgo:
	go build -trimpath -buildvcs=auto -tags no_default_driver -o $(BIN) .

## bench: load benchmark of the built binary (bench/README.md): both SQLite drivers,
## results in bench/results/. BENCH_SMOKE=1: seconds-long smoke run (tiny shop,
## pure-Go driver only, results in bench/out/smoke/). BENCH_CGO=0 skips the cgo driver.
.PHONY: bench
BENCH_CGO ?= $(if $(BENCH_SMOKE),0,1)
bench: build
ifeq ($(BENCH_CGO),1)
	go build -trimpath -buildvcs=auto -tags no_default_driver -o bench/out/shopdash-cgo .
endif
	go run ./bench -bin $(BIN) $(if $(BENCH_SMOKE),-smoke -out bench/out/smoke,-out bench/results) $(if $(filter 1,$(BENCH_CGO)),-cgo-bin bench/out/shopdash-cgo)

## drill: the failover drill (docs/deployment.md): the binary under Litestream takes a
## burst of payments, is killed with Litestream mid-burst, and is restored from the
## replica on a new data dir; prints the restore time and the payments the restore lost.
## DRILL_PAYMENTS sets the burst (default 1000); DRILL_USERS=0 skips the 1,000-customer shop.
DRILL_PAYMENTS ?= 1000
DRILL_USERS ?= 1000
drill: build $(LITESTREAM)
	SHOPDASH_DRILL=1 DRILL_PAYMENTS=$(DRILL_PAYMENTS) DRILL_USERS=$(DRILL_USERS) \
		SHOPDASH_BIN=$(abspath $(BIN)) LITESTREAM_BIN=$(LITESTREAM) \
		go test -tags e2e -count=1 -v -timeout 20m -run '^TestFailoverDrill$$' ./e2e/

## staff-screenshots: the staff guide's pictures (docs/staff/*.png), taken by the
## staff console's browser suite against a fresh shop
staff-screenshots: build $(STRIPE_MOCK) $(CHROMIUM)
	STAFF_SCREENSHOTS=$(abspath docs/staff) SHOPDASH_BIN=$(abspath $(BIN)) STRIPE_MOCK_BIN=$(STRIPE_MOCK) \
		go test -tags e2e -count=1 -v -run '^TestStaffPageInChromium$$' ./e2e/
