# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install lint js-clients services-start services-stop clean

run: install
	$(BIN)/hubline serve

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite: lint, types, then unit, integration and e2e tests against a real
# PostgreSQL and a real Kafka broker that the project's own scripts start and stop.
test: lint js-clients
	HUBLINE_PYTHON=$(abspath $(BIN)/python) bash infra/services/run-with-services.sh $(BIN)/python -m pytest -q

# JavaScript clients the e2e tests drive (pusher-js, @microsoft/signalr), pinned by the lock file.
js-clients: tests/e2e/js/node_modules/.installed

tests/e2e/js/node_modules/.installed: tests/e2e/js/package.json tests/e2e/js/package-lock.json
	cd tests/e2e/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

services-start: install
	bash infra/services/postgres.sh start
	HUBLINE_PYTHON=$(abspath $(BIN)/python) bash infra/services/kafka.sh start
	bash infra/services/redis.sh start

services-stop:
	bash infra/services/redis.sh stop
	bash infra/services/kafka.sh stop
	bash infra/services/postgres.sh stop

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .grimp_cache .import_linter_cache
