# PocketBase needs Go 1.27; go.mod names the toolchain and this lets the go
# command fetch it where the machine's Go is older.
export GOTOOLCHAIN := auto

# Tools the checks need, installed by `make tools` at pinned versions.
TOOLS       := $(CURDIR)/.tools
STATICCHECK := $(TOOLS)/staticcheck
STATICCHECK_VERSION := v0.8.2

BIN  ?= ./shopdash
DATA ?= pb_data
ADDR ?= 127.0.0.1:8090

.PHONY: run build build-cgo test lint vet fmt-check staticcheck tools clean

## run: build, migrate, seed an empty shop with demo data, serve on $(ADDR)
run: build
	$(BIN) seed --dir $(DATA)
	@echo
	@echo "Customer page:   http://$(ADDR)/"
	@echo "Admin dashboard: http://$(ADDR)/_/   (first superuser: $(BIN) superuser upsert admin@example.com 'a-long-password' --dir $(DATA))"
	@echo
	$(BIN) serve --dir $(DATA) --http $(ADDR)

## build: the single binary
build:
	go build -trimpath -o $(BIN) .

## test: everything CI runs
test: lint
	go test -count=1 ./...

lint: fmt-check vet staticcheck

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags no_default_driver .

$(STATICCHECK):
	GOBIN=$(TOOLS) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(STATICCHECK)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	go vet -tags no_default_driver .

clean:
	rm -rf $(BIN) $(DATA)

## build-cgo: the binary with the cgo SQLite driver (needs gcc; see docs/decisions/0004-sqlite-driver.md)
build-cgo:
	go build -trimpath -tags no_default_driver -o $(BIN) .
