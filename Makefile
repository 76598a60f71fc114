# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export VORONKA_DATABASE_URL ?= sqlite:///var/voronka.db
export VORONKA_BOOTSTRAP_ADMIN ?= admin:admin

.PHONY: run test lint clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p var
	$(BIN)/voronka migrate
	$(BIN)/voronka deploy bpmn
	$(BIN)/voronka serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check app tests bench migrations

clean:
	rm -rf $(VENV) var .pytest_cache
