# Two set-up commands: `make demo` and `make test`. Both create .venv from uv.lock on first use.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
UV := $(VENV)/bin/uv
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING
# the ephemeral API server starts in a subprocess; on a busy 2-core machine it can take a while
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
SCALE ?= 0.1

.PHONY: demo test bench lint suites docs report clean

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	@test -x $(UV) || { $(VENV)/bin/python -m ensurepip >/dev/null 2>&1; $(VENV)/bin/python -m pip install -q "uv==0.13.9"; }
	$(UV) sync --frozen --inexact --quiet --python $(VENV)/bin/python
	@touch $@

demo: $(VENV)/.synced
	@mkdir -p var
	PREFECT_HOME=$(CURDIR)/var/demo-prefect $(VENV)/bin/baocao demo --home var/demo

test: $(VENV)/.synced
	@mkdir -p var
	PREFECT_HOME=$(CURDIR)/var/test-prefect $(VENV)/bin/python -m pytest -q

bench: $(VENV)/.synced
	$(VENV)/bin/python -m bench.run --scale $(SCALE) $(if $(GROWTH),--growth) $(if $(LATENCY),--latency)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .

suites: $(VENV)/.synced
	$(VENV)/bin/python -m expectations.build

docs: $(VENV)/.synced
	$(VENV)/bin/python -m warehouse.docs

clean:
	rm -rf var
