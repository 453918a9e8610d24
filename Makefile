# Two commands do everything on a fresh machine:
#   make lab    build the calculator lab on the embedded default (Docker on this machine)
#   make test   run every test and gate (make test STAGES="unit e2e": only those stages)
# Both install what they need first (virtualenv, Docker engine, base image) and skip what is already there.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.requirements-installed
export PATH := $(abspath $(BIN)):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)

.PHONY: lab test setup venv engine image tools destroy clean bench

lab: setup
	ansible-playbook site.yml

test: setup
	bash scripts/test.sh $(STAGES)

setup: venv image tools

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

engine:
	bash scripts/ensure-docker.sh

image: engine
	bash scripts/build-base-image.sh

tools:
	bash scripts/ensure-tools.sh

# How the lab's cost grows with its size, and the calculator under load: docs/benchmarks.md (not part of
# make test; heavy: about half an hour on 2 cores). A quick run: make bench BENCH_ARGS="--sizes 4 16 --pairs 2".
bench: setup
	python scripts/bench.py $(BENCH_ARGS)

# Remove the lab's containers and networks (the base image stays, for the next `make lab`).
destroy: venv engine
	ansible-playbook playbooks/destroy.yml

clean: destroy
	rm -rf $(VENV)
