# One entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CODEGEN := cargo run --quiet --bin proxmox-sdk-codegen --

.PHONY: help venv dev system-deps test test-rust test-py lint msrv regen regen-check wheels bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps: requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.deps ## create .venv with the test and lint tools

dev: venv ## build the native module (debug) and install the package editable into .venv
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --quiet

test-rust: ## cargo test (the core, without Python)
	cargo test --all-targets

SSH_TEST_USER := pbx-ssh-test
SSH_TEST_PASSWORD := Pbx-test-password-42

system-deps: ## openssh-server (SSH tests), tmux (TUI test), dmidecode and ethtool (node hardware tests), openssl (a test's certificate), the SSH tests' password account; needs root
	@{ test -x /usr/sbin/sshd && command -v tmux >/dev/null && test -x /usr/sbin/dmidecode && test -x /usr/sbin/ethtool && command -v openssl >/dev/null; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client tmux dmidecode ethtool openssl >/dev/null; }
	@id $(SSH_TEST_USER) >/dev/null 2>&1 || useradd -M -s /bin/sh $(SSH_TEST_USER)
	@echo '$(SSH_TEST_USER):$(SSH_TEST_PASSWORD)' | chpasswd

test-py: dev system-deps ## pytest against the editable build
	$(BIN)/pytest tests_py

test: test-rust test-py ## every Rust and Python test

lint: dev ## rustfmt, clippy -D warnings, ruff, stubtest, mypy --strict and pyright (package and tests_py/typing/typed_example.py)
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude proxmox-sdk-native --all-targets -- -D warnings
	VIRTUAL_ENV=$(abspath $(VENV)) PYO3_PYTHON=$(abspath $(BIN))/python cargo clippy --features python --lib -- -D warnings
	VIRTUAL_ENV=$(abspath $(VENV)) PYO3_PYTHON=$(abspath $(BIN))/python cargo clippy -p proxmox-sdk-native -- -D warnings
	$(BIN)/ruff check python tests_py benches
	$(BIN)/ruff format --check python tests_py benches
	$(BIN)/python -m mypy.stubtest proxmox_sdk._native --allowlist python/stubtest-allowlist.txt
	$(BIN)/mypy --strict python/proxmox_sdk tests_py/typing/typed_example.py
	$(BIN)/pyright --pythonpath $(abspath $(BIN))/python

msrv: ## check that no dependency needs a newer Rust than Cargo.toml's rust-version (clippy's incompatible_msrv checks our code)
	$(PYTHON) .ci/msrv.py

wheels: venv ## dist/: the sdist, and a manylinux_2_17 abi3 wheel built from it offline (zig), checked by auditwheel and smoke-tested on every CPython 3.10-3.13 found
	VENV=$(abspath $(VENV)) .ci/wheels

regen: ## regenerate generated/<product>/ and the Pydantic models in python/proxmox_sdk/generated/ from generated/inputs/<product>/<version>/ (codegen)
	@for d in generated/inputs/*/*/; do \
	  product=$$(basename $$(dirname $$d)); version=$$(basename $$d); input=$$(ls $$d* | head -n1); \
	  $(CODEGEN) --service $$product --input $$input --version-tag $$version --output-dir generated/$$product \
	    --models-dir python/proxmox_sdk/generated/$$product || exit 1; \
	done

regen-check: regen ## fail if `make regen` changes a committed byte
	git diff --exit-code --stat -- generated/ python/proxmox_sdk/generated/
	@test -z "$$(git status --porcelain -- generated/ python/proxmox_sdk/generated/)" || { git status --porcelain -- generated/ python/proxmox_sdk/generated/; exit 1; }

BENCH_VENV ?= .bench-venv

$(BENCH_VENV)/.deps: benches/requirements-compare.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -r benches/requirements-compare.txt
	touch $@

bench: venv $(BENCH_VENV)/.deps ## benchmarks, side by side with proxmox-sdk 0.0.15 (see benches/README.md)
	cargo run --profile profiling --quiet -p proxmox-sdk-bench --bin schema-figures
	cargo run --profile profiling --quiet -p proxmox-sdk-bench --bin mock-churn
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --profile profiling --quiet
	$(BIN)/python benches/py_figures.py
	$(BIN)/python benches/compare_sdk.py
	$(BIN)/python benches/compare_large.py
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cargo build --profile profiling --quiet -p proxmox-sdk-bench --bin axum-ceiling --bin https-client
	$(BIN)/python benches/server_bench.py
	$(BIN)/python benches/server_mix.py
	$(BIN)/python benches/https_bench.py
	@echo "(the editable install in $(VENV) is now an optimized build; 'make dev' restores debug)"

clean: ## remove build output and .venv
	cargo clean
	rm -rf $(VENV) python/proxmox_sdk/*.so
