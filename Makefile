# The README's two commands: `make run` and `make test`. Both work from a clean clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
ADDRESS ?= 127.0.0.1

.PHONY: run test test-fast lint format browser postgres bench deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# Served on this machine only: anyone who reaches Reelscope spends your Vertex AI quota.
# `make run ADDRESS=0.0.0.0` exposes it; read "Exposing Reelscope" in README.md first.
run: $(VENV)/.runtime-installed
	@echo "Reelscope on http://$(ADDRESS):$(PORT)"
	$(BIN)/streamlit run serve.py --server.port $(PORT) --server.address $(ADDRESS)

browser:
	@bash scripts/ensure-browser.sh $(BIN)

# The store suite runs on SQLite and on a throwaway PostgreSQL 15 (tests/postgres.py).
postgres:
	@bash scripts/ensure-postgres.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(VENV)/.dev-installed browser postgres lint
	$(BIN)/python -m pytest

# The inner loop: everything but the browser tests (tests/e2e), no Chromium needed.
test-fast: $(VENV)/.dev-installed postgres lint
	$(BIN)/python -m pytest -m "not e2e"

bench: $(VENV)/.dev-installed browser postgres
	$(BIN)/python -m bench

# Reelscope on Cloud Run behind IAP (README.md, "Deploy to Cloud Run"): GOOGLE_CLOUD_PROJECT,
# REGION, SERVICE and the rest are read by the script; DRY_RUN=1 prints every command instead.
deploy:
	@bash scripts/deploy.sh

clean:
	rm -rf $(VENV) test-output
