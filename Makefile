# stream-core monorepo: `make demo` and `make test` bootstrap everything they need
# (a Python >= 3.11 virtualenv in .venv, node packages in node_modules) on first use, and
# do nothing extra when nothing changed (stamp files). `make help` lists the targets.
#
# Serverless Framework v3 runs without AWS credentials or a login for `sls package`; we
# still switch off its telemetry and update notices so it never reaches for the network:
#   SLS_TELEMETRY_DISABLED=1  SLS_NOTIFICATIONS_MODE=off

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

PYTHON ?= python3
VENV := .venv
BENCH_VENV := .venv-bench
BIN := $(VENV)/bin

# Python packages installed editable into .venv (add a service package here if it needs
# installing).
PY_PACKAGES := libs/stream-core libs/stream-local
PY_MANIFESTS := pyproject.toml $(addsuffix /pyproject.toml,$(PY_PACKAGES))

# pip that understands PEP 735 `--group`.
PIP_SPEC := pip>=25.1,<27

# Pass extra arguments to pytest: make test PYTEST_ARGS="-k kinesis -x"
PYTEST_ARGS ?=

# The stream-core wheel that services/*/requirements.txt resolve (`stream-core==0.1.*`,
# through serverless-python-requirements' `--find-links ../../dist`), rebuilt whenever the
# library changes. The requirement installs cached from it (dist/.requirements-cache) go
# with the old wheel.
STREAM_CORE_VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' libs/stream-core/src/stream_core/__init__.py)
STREAM_CORE_WHEEL := dist/stream_core-$(STREAM_CORE_VERSION)-py3-none-any.whl
STREAM_CORE_SOURCES := libs/stream-core/pyproject.toml libs/stream-core/README.md \
	$(shell find libs/stream-core/src -type f \( -name '*.py' -o -name py.typed \) -not -path '*/__pycache__/*')
# Every service folder (one serverless.yml each); `make package-services STAGE=dev`.
SERVICES := $(patsubst %/serverless.yml,%,$(sort $(wildcard services/*/serverless.yml)))
STAGE ?= local

# Benchmark scripts: every bench/*.py except helpers named _*.py.
BENCH_SCRIPTS := $(filter-out bench/_%,$(sort $(wildcard bench/*.py)))

export SLS_TELEMETRY_DISABLED := 1
export SLS_NOTIFICATIONS_MODE := off
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv node wheel package-services test lint fmt typecheck demo demo-lib new-service bench clean

help: ## list the targets
	@echo "stream-core: make <target>"
	@echo
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-17s %s\n", $$1, $$2}'
	@echo
	@echo "Requirements: Python >= 3.11 (PYTHON=$(PYTHON)), node >= 20, npm. No AWS account, no Docker."

# ---------------------------------------------------------------------------------------
# Bootstrap

# Fails with a clear message unless $(1) is a Python >= 3.11; $(2) says what to do instead.
define require_python
	@command -v $(1) >/dev/null 2>&1 || { echo "error: '$(1)' not found; Python >= 3.11 is required: $(2)" >&2; exit 1; }
	@$(1) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python >= 3.11 is required, but $(1) is $$($(1) -V 2>&1): $(2)" >&2; exit 1; }
endef
USE_OTHER_PYTHON := install it, or run make PYTHON=/path/to/python3.11
REBUILD_VENV = remove $(1) (make clean) and run make again, with PYTHON=/path/to/python3.11 if needed

venv: $(VENV)/.installed ## create .venv with stream-core (editable) and the dev tools
	@:

$(VENV)/pyvenv.cfg:
	$(call require_python,$(PYTHON),$(USE_OTHER_PYTHON))
	@echo "==> creating virtualenv $(VENV) ($$($(PYTHON) -V 2>&1))"
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/pyvenv.cfg $(PY_MANIFESTS)
	$(call require_python,$(BIN)/python,$(call REBUILD_VENV,$(VENV)))
	@echo "==> installing $(PIP_SPEC), $(PY_PACKAGES) (editable) and the dev group into $(VENV)"
	@$(BIN)/python -m pip install --quiet --upgrade '$(PIP_SPEC)'
	@$(BIN)/python -m pip install --quiet $(addprefix -e ,$(PY_PACKAGES)) --group dev
	@touch $@

node: node_modules/.package-lock.json ## install node packages (serverless v3) with npm ci
	@:

# npm writes node_modules/.package-lock.json on every install; it doubles as the stamp.
node_modules/.package-lock.json: package-lock.json package.json
	@command -v node >/dev/null 2>&1 || { echo "error: node not found; install node >= 20 and npm" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' || { echo "error: node >= 20 is required, found $$(node --version)" >&2; exit 1; }
	@echo "==> installing node packages (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# ---------------------------------------------------------------------------------------
# Everyday targets

wheel: $(STREAM_CORE_WHEEL) ## build the stream-core wheel into dist/ (what the services' requirements resolve)
	@:

$(STREAM_CORE_WHEEL): $(STREAM_CORE_SOURCES) | $(VENV)/.installed
	@echo "==> building $@"
	@rm -rf dist/stream_core-*.whl dist/.requirements-cache
	@$(BIN)/python -m pip wheel --quiet --no-deps -w dist libs/stream-core

package-services: wheel node ## serverless package every services/* (STAGE=local by default)
	@for d in $(SERVICES); do \
		echo "==> packaging $$d (stage $(STAGE))"; \
		(cd $$d && ../../node_modules/.bin/serverless package --stage $(STAGE)) || exit 1; \
	done

test: venv node wheel $(VENV)/.typecheck ## ruff, mypy, then every test (pytest)
	@echo "==> ruff check"
	@$(BIN)/ruff check .
	@echo "==> mypy $(TYPECHECK_PATHS)"
	@$(BIN)/mypy $(TYPECHECK_PATHS)
	@echo "==> pytest"
	@$(BIN)/pytest $(PYTEST_ARGS)

lint: venv ## ruff check (no changes made)
	@echo "==> ruff check"
	@$(BIN)/ruff check .

fmt: venv ## ruff format + ruff check --fix (rewrites files)
	@echo "==> ruff format"
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

# The packages' sources (settings: [tool.mypy] in the root pyproject.toml).
TYPECHECK_PATHS := libs/stream-core/src libs/stream-local/src

typecheck: $(VENV)/.typecheck ## mypy on libs/stream-core/src and libs/stream-local/src (make test runs it too)
	@echo "==> mypy $(TYPECHECK_PATHS)"
	@$(BIN)/mypy $(TYPECHECK_PATHS)

$(VENV)/.typecheck: $(VENV)/.installed
	@echo "==> installing the typecheck group into $(VENV)"
	@$(BIN)/python -m pip install --quiet --group typecheck
	@touch $@

# The whole local system: stream-local packages and deploys the five services on a local
# moto server, plays services/demo.py and stops everything. --rest-port 0: any free port, so
# a running `stream-local up` (port 3000) is no obstacle.
demo: venv node wheel ## the whole local system: five services on a local moto server, the reference scenario
	@echo "==> stream-local demo (services/demo.py)"
	@$(BIN)/stream-local demo --rest-port 0

demo-lib: venv ## the library alone: rules over sample batches on a local moto (examples/demo.py)
	@echo "==> examples/demo.py"
	@$(BIN)/python examples/demo.py

# A new service from a copy of another, names replaced (stream-local new; see services/README.md).
new-service: venv ## copy a service as the start of a new one: make new-service NAME=orders-api FROM=rest-bff
	@test -n "$(NAME)" || { echo "usage: make new-service NAME=orders-api [FROM=rest-bff]" >&2; exit 1; }
	@$(BIN)/stream-local new '$(NAME)' --from '$(or $(FROM),rest-bff)'

# The bench group (aws-lambda-stream 1.4.0) pins reactivex<5 while stream-core allows newer,
# so it gets its own virtualenv and never changes what `make test` runs against.
bench: $(BENCH_VENV)/.installed ## run every bench/*.py (own venv: .venv-bench)
	@$(if $(BENCH_SCRIPTS),,echo "no bench/*.py yet")
	@for f in $(BENCH_SCRIPTS); do echo "==> $$f"; $(BENCH_VENV)/bin/python "$$f"; done

$(BENCH_VENV)/pyvenv.cfg:
	$(call require_python,$(PYTHON),$(USE_OTHER_PYTHON))
	@echo "==> creating virtualenv $(BENCH_VENV) ($$($(PYTHON) -V 2>&1))"
	@$(PYTHON) -m venv $(BENCH_VENV)

$(BENCH_VENV)/.installed: $(BENCH_VENV)/pyvenv.cfg $(PY_MANIFESTS)
	@echo "==> installing $(PY_PACKAGES) (editable), the dev and bench groups into $(BENCH_VENV)"
	@$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade '$(PIP_SPEC)'
	@$(BENCH_VENV)/bin/python -m pip install --quiet $(addprefix -e ,$(PY_PACKAGES)) --group dev --group bench
	@touch $@

clean: ## remove virtualenvs, node_modules, dist and caches
	@echo "==> removing $(VENV) $(BENCH_VENV) node_modules dist and caches"
	@rm -rf $(VENV) $(BENCH_VENV) node_modules dist .pytest_cache .ruff_cache .mypy_cache
	@find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
