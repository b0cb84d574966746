# repro: the two commands a user types are `make paper` and `make test` (see README.md).

SWIFT ?= swift
SYSTEM_PACKAGES := libopenblas-dev libcairo2-dev libsqlite3-dev fonts-dejavu-core
REPRO := .build/release/repro

.PHONY: paper test deps build bench fixtures clean

## paper: the full reproduction: train and evaluate every study that is not fresh (PROFILE=quick for the toy profile)
PROFILE ?=
PROFILE_FLAG := $(if $(PROFILE),--profile $(PROFILE),)
paper: build
	$(REPRO) run $(PROFILE_FLAG)
	$(REPRO) status $(PROFILE_FLAG)

## test: install what is missing, build, and run every test
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@# The command line as a user runs it: help, the BLAS kernel check on a tiny size, MME scoring.
	.build/debug/repro --help > /dev/null
	.build/debug/repro bench blas --sizes 64 --seconds 0.05
	.build/debug/repro score mme Tests/MetricsTests/Fixtures/mme > /dev/null
	.build/debug/repro data preview --corpus benchmark --count 4 --output .build/data-preview.png
	@# One end-to-end run of the quick profile in a fresh workspace, then a second that must train nothing.
	rm -rf .build/quick-workspace
	.build/debug/repro run --profile quick --workspace .build/quick-workspace
	.build/debug/repro run --profile quick --workspace .build/quick-workspace | grep -q "Nothing to train"

## deps: the system libraries (OpenBLAS, Cairo, SQLite, DejaVu fonts), via apt-get when root
deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "install them with: sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

## build: the release binary (anything that trains runs in release)
build: deps
	$(SWIFT) build -c release --product repro

## bench: the engine's speed on this machine
bench: build
	$(REPRO) bench blas
	$(REPRO) bench ops

## fixtures: regenerate the reference values and files the tests compare against (needs PyTorch, Pillow, rouge-score, sacrebleu; see tools/)
fixtures:
	python3 tools/make_engine_fixtures.py
	python3 tools/make_metric_fixtures.py
	python3 tools/make_data_fixtures.py

clean:
	rm -rf .build
