# climxai: `make run` opens the application, `make test` checks everything; both install what is
# missing first (scripts/setup.sh). See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# Prerequisites run in the order written (setup before build); go parallelises inside each step.
.NOTPARALLEL:

# The ONNX Runtime library fetched by setup; a user's own build (e.g. with CUDA) set in the
# environment wins. The version and cache layout live only in scripts/setup.sh.
ifeq ($(origin CLIMXAI_ORT_LIB),undefined)
CLIMXAI_ORT_LIB := $(shell scripts/setup.sh --ort-lib)
endif
export CLIMXAI_ORT_LIB

# Fyne reads the locale from LANG at start-up and logs an error for LANG=C (the usual value on CI
# and servers); any well-formed locale name will do, installed or not.
export LANG := en_US.UTF-8

# TEST_TIMEOUT bounds `go test` (the contract: make test within 20 minutes, cold, on 2 cores).
TEST_TIMEOUT ?= 15m
# TEST_FUZZTIME is the fuzzing time per target inside `make test`; FUZZTIME that of `make fuzz`.
TEST_FUZZTIME ?= 10s
FUZZTIME ?= 60s
BENCHTIME ?= 1s
# ARGS are passed to the program by `make run`, e.g. make run ARGS='info data.nc'.
ARGS ?=
# STUDY_OUT is where `make study` writes its files (README, "The study, reproduced on the demo").
STUDY_OUT ?= study-out

.PHONY: setup build run test vet fmt-check bench fuzz race package study clean

setup:
	scripts/setup.sh

build:
	go build -o bin/climxai .

run: setup build
	./bin/climxai $(ARGS)

test: setup vet fmt-check
	go test -timeout $(TEST_TIMEOUT) ./...
	scripts/gui-smoke.sh
	FUZZTIME=$(TEST_FUZZTIME) scripts/fuzz.sh

vet:
	go vet ./...

# Generated protobuf code (*.pb.go) is formatted by its generator and never edited by hand.
fmt-check:
	@files=$$(find . -name '*.go' ! -name '*.pb.go' ! -path './.git/*' -print0 | xargs -0 -r gofmt -l); \
	if [[ -n $$files ]]; then echo "gofmt: these files need 'gofmt -w':"; echo "$$files"; exit 1; fi; \
	echo "gofmt: ok"

bench: setup
	scripts/setup-bench.sh
	go test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...
	@if [[ -d tools/bench ]]; then echo "go run ./tools/bench"; go run ./tools/bench; fi

fuzz: setup
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# The race detector over every package (about 4 minutes warm, plus a race build of Fyne cold):
# the window's two job lanes and the workspace are meant for concurrent use.
race: setup
	go test -race -timeout $(TEST_TIMEOUT) ./...

# FYNE_CLI is Fyne's packaging tool, run from the Go module proxy at a pinned version.
FYNE_CLI ?= go run fyne.io/tools/cmd/fyne@v1.7.4

# package builds bin/climxai.tar.xz (binary, .desktop entry, icon, an install Makefile) with
# `fyne package` from FyneApp.toml. fyne rewrites FyneApp.toml (drops its comments, bumps Build),
# so the checked-in file is put back afterwards.
package: setup
	mkdir -p bin
	cp FyneApp.toml bin/FyneApp.toml.keep
	$(FYNE_CLI) package --target linux --release || { mv bin/FyneApp.toml.keep FyneApp.toml; exit 1; }
	mv bin/FyneApp.toml.keep FyneApp.toml
	mv climxai.tar.xz bin/
	@echo "package: bin/climxai.tar.xz (tar xJf it, then sudo make -C climxai install)"

# The reference study's analyses on the demo emulators: the README's reproduction table.
study: setup
	scripts/study.sh $(STUDY_OUT)

clean:
	rm -rf bin
