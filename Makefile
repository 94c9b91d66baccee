# Two commands for users: `make run` (set up, build, serve the default model) and `make test` (set up, every test).
SHELL := /bin/bash
export LONGRM_CACHE ?= $(HOME)/.cache/longrm
HOST ?= 127.0.0.1
PORT ?= 8080
MODEL ?= $(LONGRM_CACHE)/models/gemma-3-270m-q4_k_m.gguf
SWIFT_FLAGS ?=

.PHONY: setup build release run test test-swift test-tools clean-cache parity

setup:
	@scripts/setup.sh --with-tools

# LLAMA_PREFIX is exported from env.sh: SwiftPM caches Package.swift's result and notices a changed
# environment, not a changed env.sh, so a new build of llama.cpp (another CPU flavour) is picked up.
WITH_ENV = source $(LONGRM_CACHE)/env.sh && export LLAMA_PREFIX &&

build: setup
	$(WITH_ENV) swift build $(SWIFT_FLAGS)

release: setup
	$(WITH_ENV) swift build -c release $(SWIFT_FLAGS)

run: release
	.build/release/longrm serve --host $(HOST) --port $(PORT) --model $(MODEL)

test: setup
	scripts/test.sh

# Reward-model parity, transformers side included: re-runs scripts/rm/reference_scores.py (torch, fp32)
# against the committed goldens, then the HTTP parity of tests/rm_parity.sh (docs/REWARD_MODELS.md).
parity: setup
	RM_PARITY_REFERENCE=1 bash tests/rm_parity.sh

clean-cache:
	rm -rf $(LONGRM_CACHE)
