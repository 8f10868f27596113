# GRMS — `make run` starts the whole suite, `make test` proves it. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
GEN    := gen/python
PROTOS := $(shell find protos -name '*.proto')
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint proto bench clean

help: ## Show the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "GRMS needs Python 3.11 or newer"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "grms_gen.pth").write_text(str(pathlib.Path("$(GEN)").resolve()) + "\n")'
	touch $@

$(GEN)/.stamp: $(STAMP) $(PROTOS)
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(PY) -m grpc_tools.protoc -I protos --python_out=$(GEN) --pyi_out=$(GEN) --grpc_python_out=$(GEN) $(PROTOS)
	touch $@

proto: $(GEN)/.stamp ## Generate the protobuf and gRPC code into gen/python

run: $(GEN)/.stamp ## Run the whole suite on this machine (Ctrl-C stops it)
	$(VENV)/bin/grms up

test: $(GEN)/.stamp ## Run the whole test suite
	$(VENV)/bin/pytest

lint: $(GEN)/.stamp ## ruff (rules and formatting), import rules, buf lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/buf lint

bench: $(GEN)/.stamp ## Benchmarks beside the raw stack, figures printed and saved to bench/results/
	$(PY) -m bench

clean: ## Remove generated code, the virtualenv and local state
	rm -rf $(VENV) $(GEN) var
