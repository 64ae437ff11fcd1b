# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Setup steps print one line each; their output goes to the checkout's setup log and is
# shown only when a step fails.
QUIETLY := bash $(CURDIR)/infra/services/quietly.sh
SETUP_LOG = $(shell bash $(CURDIR)/infra/services/checkout.sh | sed -n 's/^HUBLINE_RUN_DIR=//p')/setup.log

.PHONY: run test install lint js-clients services-start services-stop clean

run: install
	$(BIN)/hubline serve

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "installing Hubline and its test dependencies into $(VENV) (log: $(SETUP_LOG))"
	@$(QUIETLY) "creating $(VENV)" $(PYTHON) -m venv $(VENV)
	@$(QUIETLY) "upgrading pip" $(BIN)/pip install --upgrade pip
	@$(QUIETLY) "installing Hubline into $(VENV)" $(BIN)/pip install -e '.[test]'
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite: lint, types, then unit, integration and e2e tests against a real
# PostgreSQL and a real Kafka broker that the project's own scripts start and stop.
test: lint js-clients flatc
	HUBLINE_PYTHON=$(abspath $(BIN)/python) bash infra/services/run-with-services.sh $(BIN)/python -m pytest -q

# schemathesis over every API operation as in `make test`, with many more examples and a new
# seed each run (embedded deployment only; no services needed). FUZZ_EXAMPLES=N to change.
FUZZ_EXAMPLES ?= 300
.PHONY: fuzz-long
fuzz-long: install
	HUBLINE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HUBLINE_FUZZ_SEED=random \
		$(BIN)/python -m pytest -q -s tests/e2e/test_api_fuzz.py

# JavaScript clients the e2e tests drive (pusher-js, @microsoft/signalr), pinned by the lock file.
js-clients: tests/e2e/js/node_modules/.installed

tests/e2e/js/node_modules/.installed: tests/e2e/js/package.json tests/e2e/js/package-lock.json
	@echo "installing the JavaScript test clients (log: $(SETUP_LOG))"
	@$(QUIETLY) "npm ci" npm --prefix tests/e2e/js ci --no-audit --no-fund
	@touch $@

# flatc, the FlatBuffers compiler (Debian's flatbuffers-compiler 2.0.8), installed if missing:
# a unit test regenerates gateways/openshock/wire/ with it to prove the committed copy unedited.
.PHONY: flatc flatbuffers
flatc:
	@bash infra/services/flatc.sh

# The Python code of OpenShock's hub protocol (gateways/openshock/wire/, committed) from the
# upstream schemas (gateways/openshock/schemas/) with `flatc --python`. Two steps of the
# recipe are not plain flatc, both deterministic: the schemas go through a binary schema
# first, because flatc refuses structs in unions (the V1 schema has two) when parsing for
# Python; and flatc writes absolute imports from the schema namespace (`from
# OpenShock.Serialization.Types.SemVer import ...`) with no option for another prefix, so sed
# turns the OpenShock.Serialization prefix into our package's name and that folder becomes
# gateways/openshock/wire/. Never edit the output: change generate_wire.sh and run this.
flatbuffers: flatc
	bash gateways/openshock/generate_wire.sh gateways/openshock/wire

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
