# repro: the two commands a user types are `make paper` and `make test` (see README.md).

# Every recipe line runs in bash with -e -u -o pipefail: a command that fails fails its line even
# when its output is piped into another (a crash after the line a check greps for must not pass).
# Checks grep files, or grep without -q, so that no producer is cut off by a closed pipe.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

SWIFT ?= swift
SYSTEM_PACKAGES := libopenblas-dev libcairo2-dev libsqlite3-dev libssl-dev fonts-dejavu-core
# Only `make test` needs these: a headless browser that loads report.html.
TEST_PACKAGES := chromium
# Only `make pdf` needs these: pdflatex and the LaTeX packages report.tex uses.
PDF_PACKAGES := texlive-latex-base texlive-latex-recommended
REPRO := .build/release/repro

.PHONY: paper test deps test-deps build bench fixtures clean figures tables check report pdf keys

# PROFILE=quick runs the report commands on the quick profile; its outputs go under .build/, so that
# toy numbers never overwrite the committed paper/ and figures/.
PROFILE ?=
# SEEDS=1 (a count, list or range) replaces the experiments' seeds: one seed for a quick look; its
# outputs go under .build/ too, beside the committed ones.
SEEDS ?=
# EXECUTOR=slurm trains each study as a job on the Slurm cluster this machine submits to (README).
EXECUTOR ?=
OUTPUTS := .build/outputs$(if $(PROFILE),-$(PROFILE))$(if $(SEEDS),-seeds-$(SEEDS))
PAPER_DIR := $(if $(PROFILE)$(SEEDS),$(OUTPUTS)/paper,paper)
FIGURES_DIR := $(if $(PROFILE)$(SEEDS),$(OUTPUTS)/figures,figures)
RUN_FLAGS := $(if $(PROFILE),--profile $(PROFILE)) $(if $(SEEDS),--seeds $(SEEDS))
REPORT_FLAGS := $(RUN_FLAGS) --output $(PAPER_DIR) --figures $(FIGURES_DIR)

## paper: the full reproduction: train and evaluate every study that is not fresh (each experiment
## with its seeds), then the figures, tables, check and report from the stored results, each written
## once (PROFILE=quick for the toy profile, SEEDS=1 for one seed per experiment, EXECUTOR=slurm on a cluster)
paper: build
	$(REPRO) run $(RUN_FLAGS) $(if $(EXECUTOR),--executor $(EXECUTOR))
	$(REPRO) report $(REPORT_FLAGS)

## test: install what is missing, build, and run every test; temporary files (the tests' and
## SwiftPM's own) go to .build/tmp, so that the system's temporary folder is left as it was
test: export TMPDIR = $(CURDIR)/.build/tmp
test: deps test-deps
	mkdir -p .build/tmp
	$(SWIFT) build --build-tests
	$(SWIFT) test
	@# The command line as a user runs it: help, the BLAS kernel check on a tiny size, MME scoring.
	.build/debug/repro --help > /dev/null
	.build/debug/repro bench blas --sizes 64 --seconds 0.05
	.build/debug/repro score mme Tests/MetricsTests/Fixtures/mme > /dev/null
	.build/debug/repro data preview --corpus benchmark --count 4 --output .build/data-preview.png
	@# The data commands describe the studies' data (96x96 scenes of at most 2 objects), not the code's defaults.
	.build/debug/repro data stats > .build/data-stats.txt
	grep -q "1-2 objects, text in 30% of scenes, 96x96 pixels" .build/data-stats.txt
	grep -q "^Retention control (rows like the instruction mixture's, on scenes of their own): 1000 train, 250 test" .build/data-stats.txt
	.build/debug/repro data preview --corpus retention-control --count 4 --output .build/data-preview-retention.png
	@# README's study-file reference is what `repro keys` prints (`make keys` rewrites it).
	.build/debug/repro keys > .build/study-keys.md
	awk '/^<!-- BEGIN study keys/{f=1;next}/^<!-- END study keys/{f=0}f' README.md | diff .build/study-keys.md -
	@# Errors a user can act on: outside a project, and with broken study folders and workspaces.
	bash Tests/CommandLine/errors-a-user-can-act-on.sh .build/debug/repro
	@# One end-to-end run of the quick profile in a fresh workspace, then a second that must train nothing.
	rm -rf .build/quick-workspace
	.build/debug/repro run --profile quick --workspace .build/quick-workspace 2>&1 | tee .build/quick-run.log
	.build/debug/repro run --profile quick --workspace .build/quick-workspace > .build/quick-rerun.log
	grep -q "Nothing to train" .build/quick-rerun.log
	@# The studies beside the experiments trained too; the positive control replied to its own rows (the
	@# pretraining corpus's short answers), the experiments to the VL-RewardBench-shaped set's sentences.
	grep -q "ablation-last-layer: done in" .build/quick-run.log
	grep -q "control-default-enhanced: done in" .build/quick-run.log
	grep -q "control-pretraining-rows@1: done in" .build/quick-run.log
	grep -q '"reference":"\(yes\|no\)"' .build/quick-workspace/runs/control-pretraining-rows-*/outputs/generations-image.jsonl
	! grep -q '"reference":"\(yes\|no\)"' .build/quick-workspace/runs/exp01-medium-default-*/outputs/generations-image.jsonl
	@# The experiments trained side by side in workers of one thread each; one of them run again alone
	@# (--jobs 1, in the same process, profiled) stores the same bits: every metric to the last bit, the
	@# loss curve, and the sha256 of every checkpoint and of the saved model and outputs (show --json).
	grep -q "exp01-medium-default: started in a worker (1 thread)" .build/quick-run.log
	.build/debug/repro show exp01 --profile quick --workspace .build/quick-workspace > .build/quick-exp01-show.txt
	grep -q "OpenBLAS .*, 1 thread," .build/quick-exp01-show.txt
	.build/debug/repro show exp01 --profile quick --workspace .build/quick-workspace --json > .build/quick-exp01-workers.json
	grep -q '"model/model.safetensors" : "[0-9a-f]\{64\}"' .build/quick-exp01-workers.json
	grep -q '"test_loss" : ' .build/quick-exp01-workers.json
	.build/debug/repro run exp01 --force --jobs 1 --profile-ops --profile quick --workspace .build/quick-workspace 2>&1 | tee .build/quick-exp01-alone.log
	grep -q "exp01-medium-default: done in" .build/quick-exp01-alone.log
	grep -q "exp01-medium-default: the training loop: .* sgemm .* of the time at" .build/quick-exp01-alone.log
	grep -q "^linear " .build/quick-workspace/runs/exp01-medium-default-*/profile.txt
	.build/debug/repro show exp01 --profile quick --workspace .build/quick-workspace --json > .build/quick-exp01-alone.json
	diff .build/quick-exp01-workers.json .build/quick-exp01-alone.json
	@# Every pretraining stage stored its gate figures, and show prints them (align and the base model beside the blind control).
	.build/debug/repro show vision --profile quick --workspace .build/quick-workspace > .build/quick-show-vision.txt
	grep -q "gate.vision.shape" .build/quick-show-vision.txt
	.build/debug/repro show language --profile quick --workspace .build/quick-workspace > .build/quick-show-language.txt
	grep -q "gate.language.yes_no" .build/quick-show-language.txt
	.build/debug/repro show align --profile quick --workspace .build/quick-workspace > .build/quick-show-align.txt
	grep -q "gate.align.objects .*blind control" .build/quick-show-align.txt
	grep -q "gate.align.localisation" .build/quick-show-align.txt
	grep -q "gate.align.lm_answers .*blind control" .build/quick-show-align.txt
	grep -q "gate.align.answer_kind .*blind control" .build/quick-show-align.txt
	.build/debug/repro show instruct --profile quick --workspace .build/quick-workspace > .build/quick-show-instruct.txt
	grep -q "mme.existence .*blind control" .build/quick-show-instruct.txt
	grep -q "long_form_rougeL .*blind control" .build/quick-show-instruct.txt
	grep -q "mme_yes_no_share .*blind control" .build/quick-show-instruct.txt
	grep -q "uniform_loss" .build/quick-show-instruct.txt
	grep -q "mme_forced_choice .*blind control" .build/quick-show-instruct.txt
	.build/debug/repro bench eval --study exp01 --profile quick --workspace .build/quick-workspace --profile-ops --json > .build/quick-bench-eval.json
	grep -q '"MME benchmark, blind"' .build/quick-bench-eval.json
	grep -Eq '"sgemm_gflop" : [0-9.e-]*[1-9]' .build/quick-bench-eval.json
	grep -q '"sgemm_seconds_at_peak"' .build/quick-bench-eval.json
	@# Evaluated again (under the profiler), the model gives every number its run stored, bit for bit.
	grep -q '"compared_with_stored" : [1-9]' .build/quick-bench-eval.json
	tr -d ' \n' < .build/quick-bench-eval.json | grep -q '"differing_from_stored":\[\]'
	@# The probe: its summary counts are those of the answers it printed, and it wrote a PNG contact sheet.
	rm -f .build/quick-probe.png
	.build/debug/repro probe instruct --profile quick --workspace .build/quick-workspace --per-skill 1 --output .build/quick-probe.png > .build/quick-probe.txt
	awk -f tools/check_probe_output.awk .build/quick-probe.txt
	grep -q "^wrote .*/\.build/quick-probe\.png$$" .build/quick-probe.txt
	printf '\211PNG\r\n\032\n' | cmp -n 8 - .build/quick-probe.png
	@# The report from that workspace: figure, tables and the check (outputs under .build/).
	.build/debug/repro figures --profile quick --workspace .build/quick-workspace --output .build/quick-paper --figures .build/quick-figures
	.build/debug/repro tables --profile quick --workspace .build/quick-workspace --output .build/quick-paper --figures .build/quick-figures
	.build/debug/repro check --profile quick --workspace .build/quick-workspace --output .build/quick-paper --figures .build/quick-figures > /dev/null
	@# The check counts each experiment's benchmark replies that were a yes or a no, from the files the run wrote,
	@# beside its forced choice, and groups the experiments by the tensors their runs loaded.
	grep -q "forced choice [0-9.]*%, [0-9]*/[0-9]* replies yes or no" .build/quick-paper/check.md
	grep -q "Pretrained weights kept (.*; every tensor loaded): " .build/quick-paper/check.md
	@# The controls under Table 1, the last-layer ablation and the positive control have numbers in their tables.
	grep -E '^\|  \| Default, enhanced LoRA, 3 epochs \(not in the paper\) \| [0-9]' .build/quick-paper/tables/table1.md > /dev/null
	grep -E '^\| Only the last language-model layer trained \| [0-9.]+ ± [0-9.]+ \| [0-9]' .build/quick-paper/tables/ablation.md > /dev/null
	grep -E '^\| Default, default LoRA, on rows like .* \| [0-9.]+ \| [0-9.]+ ± [0-9.]+ \| [0-9.]+ ± [0-9.]+ \| (yes|no|cannot tell) \|$$' .build/quick-paper/tables/retention-control.md > /dev/null
	grep -q "Training length apart from model size: exp 9 at 6 epochs against" .build/quick-paper/check.md
	grep -q "A positive control for the retention claim (not in the paper): .*, keeps [0-9.]*%" .build/quick-paper/check.md
	@# Two seeds per experiment in the quick profile: the tables give mean ± interval, an appendix each seed.
	grep -q " ± " .build/quick-paper/tables/table1.md
	grep -q "Mean over 2 seeds" .build/quick-paper/tables/table2.md
	grep -q "exp01-medium-default@1" .build/quick-run.log
	test -s .build/quick-paper/tables/seeds.md
	@# This run saved as a reference, then compared with itself: every number is consistent.
	rm -rf .build/quick-reference && mkdir -p .build/quick-reference && cp paper/paper.toml paper/reported.toml .build/quick-reference/
	.build/debug/repro report --save-reference --paper .build/quick-reference --profile quick --workspace .build/quick-workspace --output .build/quick-reference --figures .build/quick-reference/figures > /dev/null
	.build/debug/repro check --paper .build/quick-reference --profile quick --workspace .build/quick-workspace --output .build/quick-reference --figures .build/quick-reference/figures > /dev/null
	grep -E "^([1-9][0-9]*) of \1 numbers are consistent with the committed run" .build/quick-reference/check.md > /dev/null
	@# The report as a page, loaded in a headless browser: its figures and tables render and it loads
	@# nothing; the check also fails on copies of the page without figures, without tables, or loading an image.
	.build/debug/repro report --profile quick --workspace .build/quick-workspace --output .build/quick-paper --figures .build/quick-figures > /dev/null
	grep -q "^\*\*Retention control\.\*\* Positive control for retention (not in the paper)" .build/quick-paper/report.md
	tools/check_html.sh --self-test .build/quick-paper/report.html .build/quick-browser
	@# The quick profile through a real one-node Slurm cluster (Debian's packages, started and stopped by the
	@# script): the same bits as the local run above, resume after a cancelled job, failures and bad input.
	bash Tests/Slurm/executor.sh .build/debug/repro .build/quick-workspace

## deps: the system libraries (OpenBLAS, Cairo, SQLite, DejaVu fonts), via apt-get when root
deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep "ok installed" > /dev/null || missing="$$missing $$p"; \
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

## test-deps: what only the tests use (Chromium), via apt-get when root; where it cannot be
## installed, the browser check of report.html says it was skipped
test-deps:
	@missing=""; \
	for p in $(TEST_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep "ok installed" > /dev/null || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "installing test packages:$$missing"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } \
	      || echo "could not install$$missing; the browser check of report.html will be skipped"; \
	  else \
	    echo "missing test packages:$$missing (the browser check of report.html will be skipped);"; \
	    echo "install them with: sudo apt-get install -y$$missing"; \
	  fi; \
	fi

## build: the release binary (anything that trains runs in release)
build: deps
	$(SWIFT) build -c release --product repro

## bench: the engine's speed on this machine
bench: build
	$(REPRO) bench blas
	$(REPRO) bench ops
	$(REPRO) bench train
	$(REPRO) bench generate

## figures, tables, check, report: the paper's outputs from stored results (they never train)
figures: build
	$(REPRO) figures $(REPORT_FLAGS)

tables: build
	$(REPRO) tables $(REPORT_FLAGS)

check: build
	$(REPRO) check $(REPORT_FLAGS)

report: build
	$(REPRO) report $(REPORT_FLAGS)

## pdf: report.tex as a PDF. pdflatex and the packages report.tex uses (inputenc, geometry, array,
## graphicx from texlive-latex-base; booktabs from texlive-latex-recommended) are Debian's PDF_PACKAGES
pdf: report
	@if ! command -v pdflatex > /dev/null; then \
	  echo "pdflatex is not installed; install it with: sudo apt-get install -y $(PDF_PACKAGES)"; \
	  exit 1; \
	fi; \
	cd $(PAPER_DIR) && for pass in 1 2; do \
	  pdflatex -interaction=nonstopmode -halt-on-error report.tex > /dev/null || { \
	    missing=$$(sed -n 's/^! LaTeX Error: File .\(.*\). not found.*/\1/p' report.log); \
	    if [ -n "$$missing" ]; then echo "LaTeX lacks $$missing; install it with: sudo apt-get install -y $(PDF_PACKAGES)"; \
	    else echo "pdflatex failed; see $(PAPER_DIR)/report.log"; fi; \
	    exit 1; }; \
	done; \
	echo "wrote $(PAPER_DIR)/report.pdf"

## fixtures: regenerate the reference values and files the tests compare against (needs PyTorch, transformers, Pillow, rouge-score, sacrebleu, scipy, numpy; see tools/)
fixtures:
	python3 tools/make_engine_fixtures.py
	python3 tools/make_clip_fixtures.py
	python3 tools/make_metric_fixtures.py
	python3 tools/make_data_fixtures.py
	python3 tools/make_stats_fixtures.py

## keys: rewrite README.md's study-file reference from `repro keys`
keys:
	$(SWIFT) build --product repro
	.build/debug/repro keys > .build/study-keys.md
	awk 'BEGIN{while((getline l < ".build/study-keys.md")>0) t=t l "\n"} /^<!-- END study keys/{printf "%s", t; f=0} !f{print} /^<!-- BEGIN study keys/{f=1}' README.md > .build/README.md
	mv .build/README.md README.md

clean:
	rm -rf .build
