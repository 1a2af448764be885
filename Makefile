# The two commands that matter: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Unset: `make demo` uses the API the running `make run` recorded in .devstack/stack.json
# (API=URL or API_URL=URL names another).
API ?= $(API_URL)

.PHONY: install requirements run demo test chaos lint typecheck unit mail webhooks bench clean browser

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

## Recompile the pinned, hashed requirements files from the .in files, keeping every pin that
## still fits (UPGRADE="name ..." moves just those packages to their newest releases).
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	$(foreach package,$(UPGRADE),--upgrade-package $(package))
requirements: $(INSTALLED)
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

## Start the whole system on embedded services (Ctrl-C stops everything). It keeps the last
## run's orders and mails; FRESH=1 clears both first. DEMO=1 runs the demo once it is up.
run: $(INSTALLED)
	$(BIN)/python -m devstack.run $(if $(DEMO),--demo,) $(if $(FRESH),--fresh,)

## Place a few hundred sample orders against the running system (API=URL for another one).
demo: $(INSTALLED)
	$(BIN)/python -m devstack.demo $(if $(API),--base-url $(API),)

# Tests of how our processes end on a signal, and of the browser: what they check does not
# depend on which PostgreSQL or Redis the run uses, so the embedded pass leaves them out.
SAME_ON_ANY_SERVICES := tests/integration/test_worker_shutdown.py \
	tests/integration/test_intake_shutdown.py tests/integration/test_dispatcher_shutdown.py \
	tests/e2e/test_order_page_browser.py

## Lint, type-check, then every test: against local PostgreSQL/Redis if they answer,
## then the integration and end-to-end tests that use those services again on embedded ones.
test: $(INSTALLED) lint typecheck browser
	$(BIN)/python -m pytest
	TEST_EMBEDDED=1 $(BIN)/python -m pytest --only-service-tests tests/integration tests/e2e \
	  $(foreach path,$(SAME_ON_ANY_SERVICES),--ignore=$(path))

## Faults under load against the whole stack, then a scorecard (SEED=N repeats a run;
## non-zero on any violation). See "Chaos suite" in the README.
chaos: $(INSTALLED)
	$(BIN)/python -m tests.chaos $(if $(SEED),--seed $(SEED),)

## The browser the order page's tests drive: Debian's Chromium, installed when missing (as root,
## or with sudo that asks no password); without it those tests are skipped and say why.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "no $(CHROMIUM) and no root to install it: the browser tests will be skipped"; exit 0; fi; \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium >/dev/null; }

lint: $(INSTALLED)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(INSTALLED)
	$(BIN)/mypy .

unit: $(INSTALLED)
	$(BIN)/python -m pytest tests/unit

## Every benchmark: a table each, with JSON and a PNG chart in .bench/ (about 25 minutes on
## 2 cores; a throwaway database on the local PostgreSQL, or an embedded one). See "Performance".
bench: $(INSTALLED)
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.end_to_end
	$(BIN)/python -m bench.growth
	$(BIN)/python -m bench.allocation
	$(BIN)/python -m bench.payments

## List the mails the local SMTP sink received (N=3 shows the third).
mail: $(INSTALLED)
	$(BIN)/python -m devstack.mailbox $(if $(N),--show $(N),)

## List the webhook events the local receiver verified and kept.
webhooks: $(INSTALLED)
	$(BIN)/python -m devstack.webhook_receiver --show

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .devstack .chaos
