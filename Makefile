# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export VORONKA_DATABASE_URL ?= sqlite:///var/voronka.db
export VORONKA_BOOTSTRAP_ADMIN ?= admin:admin

.PHONY: run test lint clean install ui translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The browser assets: bpmn-js from npm, bundled by esbuild into app/ui/static/vendor (Node 20+ needed).
UI := app/ui
UI_DEPS := $(UI)/node_modules/.voronka-installed
UI_BUNDLE := $(UI)/static/vendor/.built

$(UI_DEPS): $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_BUNDLE): $(UI_DEPS) $(wildcard $(UI)/assets/*)
	cd $(UI) && npm run --silent build
	touch $@

ui: $(UI_BUNDLE)

# After changing texts in app/ui: refresh the template and both catalogs, then translate the new ru entries.
translations: install
	$(BIN)/pybabel extract -F $(UI)/babel.cfg -k N_ -k gettext_ -k translate:2 --no-location --sort-output \
		--project Voronka -o $(UI)/translations/messages.pot $(UI)
	$(BIN)/pybabel update -i $(UI)/translations/messages.pot -d $(UI)/translations --no-fuzzy-matching

run: install ui
	mkdir -p var
	$(BIN)/voronka migrate
	$(BIN)/voronka deploy bpmn
	$(BIN)/voronka serve --host 127.0.0.1 --port 8000

test: install ui
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check app tests bench migrations

clean:
	rm -rf $(VENV) var .pytest_cache $(UI)/node_modules $(UI)/static/vendor
