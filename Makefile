# Two commands a fresh machine needs: `make dev` (set up and run the CRM) and `make test` (set up and
# run every check). Everything is installed into .venv/ from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: dev test coverage lint typecheck unit bench fuzz synth openapi events lock clean web browser

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): $(BIN)/uv requirements.lock pyproject.toml
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The web app (web/): npm installs from its lock when the lock changes; the build (which also fails when the
# API types are stale against docs/openapi.json) re-runs when a source changes.
WEB_MODULES := web/node_modules/.installed
WEB_STAMP := web/dist/.built
WEB_SOURCES := $(shell find web/src web/scripts web/public -type f) web/index.html web/vite.config.ts web/tsconfig.json \
	docs/openapi.json
CHROMIUM := /usr/bin/chromium

$(WEB_MODULES): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_STAMP): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && npm run build
	touch $@

web: $(WEB_STAMP)

# The browser tests drive Debian's Chromium by path (Playwright's own browser download does not work here).
$(CHROMIUM):
	apt-get update && apt-get install -y chromium

browser: $(CHROMIUM)

dev: $(STAMP) web
	$(BIN)/crm dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The fuzzer runs in a pytest of its own beside the rest: pytest-xdist schedules tests by node id, and
# Schemathesis gives every operation's test the same one, so under -n 2 one operation of them ran.
FUZZ_TESTS := tests/integration/test_fuzz_api.py
test: $(STAMP) web browser lint typecheck
	@mkdir -p build
	$(BIN)/python -m pytest -q -p no:cacheprovider -p no:xdist $(FUZZ_TESTS) > build/fuzz-test.log 2>&1 & fuzz=$$!; \
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --durations=20 --ignore=$(FUZZ_TESTS); suite=$$?; \
	wait $$fuzz; fuzzed=$$?; echo "--- $(FUZZ_TESTS) (its own pytest):"; tail -n 40 build/fuzz-test.log; \
	test $$suite -eq 0 && test $$fuzzed -eq 0

# The suite with its coverage: the total and the floor it must stay above (pyproject.toml). Apart from
# `make test` because Python 3.11's tracer makes the suite 1.4x slower even with moto's threads untraced
# (tests/conftest.py); on 3.12+ coverage's sys.monitoring core would make it cheap enough to join.
coverage: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --cov --cov-report=term:skip-covered

bench: $(STAMP)
	$(BIN)/python -m bench

# The API fuzzed longer than `make test` does (about 9 minutes): 40 examples an operation, a seed of your own
# (FUZZ_SEED=7 make fuzz); what it finds is fixed with a test of its own (docs/security.md).
FUZZ_SEED ?= 20261128
fuzz: $(STAMP)
	CRM_FUZZ_EXAMPLES=40 CRM_FUZZ_SEED=$(FUZZ_SEED) $(BIN)/python -m pytest -q -p no:cacheprovider -p no:xdist \
		$(FUZZ_TESTS) -k test_every_answer_is_documented

synth: $(STAMP) web
	$(BIN)/python -m infra.app
	$(BIN)/python -m infra.assembly

openapi: $(STAMP) $(WEB_MODULES)
	$(BIN)/crm openapi -o docs/openapi.json
	cd web && npm run -s api:generate

# The event schemas (events/schemas/) and docs/events.md, from the catalog and the record models.
events: $(STAMP)
	$(BIN)/python -m crm_local.catalog

# Re-resolve the pinned dependencies after a change to pyproject.toml.
lock: $(BIN)/uv
	$(BIN)/uv pip compile --quiet pyproject.toml --all-extras --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile --quiet pyproject.toml --python-platform aarch64-manylinux2014 --python-version 3.13 \
		-o layers/requirements.lock

clean:
	rm -rf $(VENV) build cdk.out .crm web/dist web/node_modules
