# gobak build and test entry points. `make test` is what CI runs.
GO        ?= go
BIN       := bin/gobak
ENGINE    := ./pkg/...
FUZZTIME  ?= 5s
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build example test test-short vet lint fuzz bench compare scale remote clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gobak

# example: build gobak and run what it can do today on a temporary repository.
example: build
	bash scripts/example.sh $(BIN)

# test: vet, the whole test suite, and the race detector on the engine.
test: vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(ENGINE)

test-short:
	$(GO) test -short ./...

vet:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...

lint: vet
	$(STATICCHECK) ./...

# fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# bench: the engine micro-benchmarks and the SaveBlob ceiling comparison.
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=2x ./bench/
	$(GO) run ./bench/enginebench

# compare: gobak vs borg vs restic on a generated 2 GiB dataset, 3 runs
# (quick: make compare ARGS="--size 512M --runs 1"); results in bench/results.
compare:
	bash bench/compare/compare.sh $(ARGS)

# scale: gobak vs restic on 1,000,000 and 100 x 10,000 small files
# (quick: make scale ARGS="--files 100000"); results in bench/results.
scale:
	bash bench/scale/scale.sh $(ARGS)

# remote: gobak vs borg vs restic backing up to SFTP/ssh and S3 servers
# started on 127.0.0.1 (sshd, versitygw)
remote:
	bash bench/remote/remote.sh $(ARGS)

clean:
	rm -rf bin
