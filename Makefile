# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export MARKETPLACE_ENV ?= local
# --require-hashes: every package, and each one's exact file, is the one the lock file names.
PIP_INSTALL := $(PY) -m pip install --quiet --require-hashes --no-deps
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: run test lint format lock venv venv-dev translations migrate demo clean bench-search bench-checkout \
	bench-logistics bench-syndication bench-govqa bench-understand bench-pages bench-dashboards

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# What `make run` installs: the runtime lock only.
$(VENV)/.installed-run: requirements.lock | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements.lock
	touch $@

# What `make test` installs: the runtime lock plus the test tools.
$(VENV)/.installed-dev: requirements-dev.lock | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@

venv: $(VENV)/.installed-run

venv-dev: $(VENV)/.installed-dev

translations: venv
	$(VENV)/bin/pybabel compile -d translations --statistics

migrate: venv translations
	$(VENV)/bin/flask --app wsgi db upgrade

demo: migrate
	$(VENV)/bin/flask --app wsgi demo load

# The demo accounts are printed once, by run_local.py when the server answers.
run: migrate
	$(VENV)/bin/flask --app wsgi demo load --no-accounts
	$(PY) tools/run_local.py --port $(PORT)

# The quality gate: lint, formatting and types (also the first step of `make test`).
lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv-dev translations lint
	$(PY) tools/run_tests.py

# Re-resolve the pins of requirements*.txt into the hashed lock files (needs PyPI).
lock: venv-dev
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -o requirements-dev.lock requirements-dev.txt

bench-search: venv-dev
	$(PY) bench/search_bench.py

bench-logistics: venv-dev
	$(PY) bench/logistics_bench.py

bench-checkout: venv-dev
	$(PY) bench/checkout_bench.py

bench-syndication: venv-dev
	$(PY) bench/syndication_bench.py

bench-govqa: venv-dev
	$(PY) bench/govqa_bench.py

bench-understand: venv-dev
	$(PY) bench/understand_bench.py

# The storefront under `make run`'s gunicorn with wrk (Debian's package, installed when missing).
bench-pages: venv-dev
	$(PY) bench/pages_bench.py

# Every registered dashboard query on PostgreSQL with 1 000 000 generated orders (dump cached in .cache/).
bench-dashboards: venv-dev
	$(PY) bench/dashboards_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
