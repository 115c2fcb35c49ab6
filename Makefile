# Everyday tasks. `make run` and `make test` work on a fresh clone that has python3
# and can reach PyPI: the first target they need builds the virtualenv.

SHELL := /bin/bash
VENV = .venv
PY = $(VENV)/bin/python
STAMP = $(VENV)/.installed
DEV_ENV = GATEKEEPER_ENV=development COOKIE_SECURE=false
GUNICORN = $(VENV)/bin/gunicorn

.PHONY: venv translations run test drills bench lint clean

venv: $(STAMP)

# The stamp is newer than pyproject.toml once the dependencies it names are
# installed, so the install runs again only when they change.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# translations/ may not exist yet, or hold no catalogues; both are fine.
translations: venv
	@if find translations -name '*.po' 2>/dev/null | grep -q .; then \
		$(VENV)/bin/pybabel compile -d translations -f; \
	else \
		echo "No translations to compile."; \
	fi

# The demo set-up is safe to repeat; it prints a kiosk enrolment code and a one-time
# admin password. Both apps then run in the foreground, from the same gunicorn
# configs a facility uses (deploy/gunicorn), until Ctrl-C, which stops both; if
# either app exits, the other is stopped too.
run: venv translations
	$(DEV_ENV) $(VENV)/bin/kiosk demo
	@echo "Kiosk: http://127.0.0.1:8000  Console: http://127.0.0.1:8001  (Ctrl-C stops both)"
	@export $(DEV_ENV) GUNICORN_WORKERS=2; \
	trap 'kill $$kiosk $$console 2>/dev/null; wait' EXIT; \
	trap 'exit 130' INT TERM; \
	$(GUNICORN) -c deploy/gunicorn/kiosk.conf.py & kiosk=$$!; \
	$(GUNICORN) -c deploy/gunicorn/console.conf.py & console=$$!; \
	wait -n

# Extra pytest arguments: make test PYTEST_ARGS='tests/cli -x'
test: venv translations
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The long reliability drills (tests/drills; README.md, "Reliability and security
# proofs"): the full-size runs that `make test` leaves out. Figures go to
# test-artifacts/.
drills: venv translations
	$(VENV)/bin/pytest -m drill $(PYTEST_ARGS)

# The benchmarks (bench/, README.md "Speed"): builds the large datasets on SQLite and
# on the PostgreSQL server once (reused afterwards), measures, prints one table and
# writes test-artifacts/bench.json. A missed target fails the full scale;
# SCALE=small, as CI runs it, only proves that the benchmarks work.
SCALE ?= full
bench: venv translations
	$(PY) -m bench.run --scale $(SCALE)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Build and test leftovers only: the virtualenv and instance/ (secrets, the
# development database) are kept.
clean:
	rm -rf .pytest_cache .ruff_cache build test-artifacts *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	if [ -d translations ]; then find translations -name '*.mo' -delete; fi
