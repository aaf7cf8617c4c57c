# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export MARKETPLACE_ENV ?= local

.PHONY: run test venv translations migrate demo worker clean bench-search bench-checkout

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

translations: venv
	$(VENV)/bin/pybabel compile -d translations --statistics

migrate: venv translations
	$(VENV)/bin/flask --app wsgi db upgrade

demo: migrate
	$(VENV)/bin/flask --app wsgi demo load

run: demo
	$(PY) tools/run_local.py --port $(PORT)

test: venv translations
	$(PY) tools/run_tests.py

bench-search: venv
	$(PY) bench/search_bench.py

bench-checkout: venv
	$(PY) bench/checkout_bench.py

clean:
	rm -rf $(VENV) .pytest_cache
