# The two commands of the quick start are `make demo` and `make test`; each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast bench dev demo-data docs report clean

# Arrow's system allocator gives freed pages back (orchestration/memory.py): for every process a target starts,
# dbt's included, whatever a process imports first (orchestration/__init__.py sets it only before pandas loads).
export ARROW_DEFAULT_MEMORY_POOL ?= system

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "boligsosial needs Python >= 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)  ## run the whole pipeline on the embedded demo data and publish the warehouse
	@$(BIN)/boligsosial demo

YEAR ?=
report: $(STAMP)  ## the annual HTML report (+ PDF) from the published warehouse: reports/<year>/; make report YEAR=2019
	@$(BIN)/boligsosial report $(if $(YEAR),--year $(YEAR))

# Two workers (pytest-xdist), a module on one worker, the longest modules first (tests/conftest.py);
# `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder)

test: $(STAMP)  ## run the whole test suite: unit, integration and e2e
	@$(BIN)/python -m pytest $(PYTEST_PARALLEL)

test-fast: $(STAMP)  ## the loop while changing code: unit and integration tests, no pipeline runs
	@$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "unit or integration"

bench: $(STAMP)  ## measure cold and warm runs and peak memory, and the dwelling-register marts at 10 M rows; writes docs/benchmarks.md
	@$(BIN)/python scripts/benchmark.py
	@$(BIN)/python scripts/bench_registers.py

DAGSTER_HOME ?= $(CURDIR)/.dagster_home
dev: $(STAMP)  ## the Dagster UI (http://127.0.0.1:3000) and daemon: schedules, sensors, run queue
	@mkdir -p $(DAGSTER_HOME) && cp deploy/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

demo-data: $(STAMP)  ## regenerate data/demo from the deterministic generator in tools/demo_data (byte-identical)
	@$(BIN)/python scripts/generate_demo_data.py

docs: $(STAMP)  ## dbt docs for the published warehouse
	@$(BIN)/boligsosial dbt-docs

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs .dagster_home
