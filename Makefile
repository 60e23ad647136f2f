# The two commands a user needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench fuzz install clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/moderation db upgrade
	$(BIN)/moderation model ensure
	$(BIN)/moderation serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check moderation workers training tests bench
	$(BIN)/mypy

# Fresh random inputs against every documented API operation, round after round, until FUZZ_SECONDS have
# passed or one fails (kept out of CI, so a new finding never blocks an unrelated landing; CI runs the
# derandomized set). Example: make fuzz FUZZ_SECONDS=1800 FUZZ_EXAMPLES=500
FUZZ_SECONDS ?= 600
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP)
	@end=$$(( $$(date +%s) + $(FUZZ_SECONDS) )); round=0; \
	while [ $$(date +%s) -lt $$end ]; do \
	  round=$$((round + 1)); echo "== fuzz round $$round: $(FUZZ_EXAMPLES) fresh examples per operation and mode =="; \
	  FUZZ_RANDOM=1 FUZZ_SITE_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_REVIEW_EXAMPLES=$(FUZZ_EXAMPLES) \
	  FUZZ_NEGATIVE=$(FUZZ_EXAMPLES) FUZZ_REVIEW_NEGATIVE=$(FUZZ_EXAMPLES) \
	    $(BIN)/python -m pytest -q -x -p no:cacheprovider tests/test_schemathesis.py || exit 1; \
	done

# The console's catalogues: extract the English strings of moderation/console, merge them into each
# language's .po (translate the new entries there: the test suite fails while one is empty or fuzzy),
# then compile the .mo files the app reads. .po and .mo are both committed, so a fresh clone runs with
# nothing to build (tests/test_i18n.py fails when a .mo no longer matches its .po).
I18N := moderation/console/translations
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F moderation/console/babel.cfg -k _l -k _m --no-location --sort-output \
	  --project moderation -o $(I18N)/messages.pot .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date -w 120
	rm -f $(I18N)/messages.pot
	$(BIN)/pybabel compile -d $(I18N) --statistics

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var
