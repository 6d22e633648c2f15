# Sanlian: two commands do all set-up on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
SCALE  ?= small
# The benchmarks' scale: city unless SCALE is given on the command line (make bench SCALE=medium).
BENCH_SCALE ?= $(if $(filter command line,$(origin SCALE)),$(SCALE),city)
export SANLIAN_DATA_DIR ?= $(CURDIR)/var

.PHONY: install demo demo-accounts data test lint typecheck test-sqlite test-postgres test-browser messages clean-data bench

$(BIN)/.installed: pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -e ".[dev]"
	touch $@

install: $(BIN)/.installed

# Migrate the embedded SQLite database in $(SANLIAN_DATA_DIR) and load demo data once.
data: install
	@$(BIN)/sanlian migrate --noinput -v0
	@$(BIN)/sanlian seed --scale $(SCALE) >/dev/null

demo: data
	@$(BIN)/sanlian demo_accounts
	@echo "三联平台 / Sanlian: http://127.0.0.1:$(PORT)/"
	$(BIN)/sanlian runserver --noreload 127.0.0.1:$(PORT)

demo-accounts: data
	@$(BIN)/sanlian demo_accounts --json

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy src

test-sqlite: install
	bash scripts/test.sh sqlite

test-postgres: install
	bash scripts/test.sh postgres

test-browser: install
	bash scripts/test.sh browser

# Refresh the English catalogue after changing user-facing text (needs gettext).
messages: install
	cd src/sanlian && ../../$(BIN)/sanlian makemessages -l en --no-obsolete && ../../$(BIN)/sanlian compilemessages -l en

# Benchmarks at BENCH_SCALE in PostgreSQL (sanlian_bench_<scale>); writes bench/results.md.
bench: install
	$(BIN)/python -m bench --scale $(BENCH_SCALE)

clean-data:
	rm -rf $(SANLIAN_DATA_DIR)
