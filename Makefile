# The two commands: `make demo` (the main job on a local Neo4j) and `make test` (the whole suite).
# Needs Python 3.11+, Java 17+ and Maven; everything else is installed here.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RINGTRACE := $(BIN)/ringtrace
DEMO_DIR ?= demo/population
DEMO_ACCOUNTS ?= 20000
DEMO_SEED ?= 7

# The test server is separate from the development one, so tests never wipe demo data.
TEST_ENV := NEO4J_URI=bolt://127.0.0.1:7688 RINGTRACE_NEO4J_BOLT_PORT=7688 \
            RINGTRACE_NEO4J_HTTP_PORT=7475 RINGTRACE_NEO4J_HOME=$(CURDIR)/.neo4j-test

.PHONY: install chromium demo test lint bench quality neo4j-start neo4j-stop clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,fast,spark]'
	touch $@

demo: install
	$(RINGTRACE) neo4j start
	$(RINGTRACE) schema apply
	$(RINGTRACE) generate --out $(DEMO_DIR) --accounts $(DEMO_ACCOUNTS) --seed $(DEMO_SEED)
	$(RINGTRACE) load $(DEMO_DIR); status=$$?; test $$status -eq 0 -o $$status -eq 3
	$(RINGTRACE) detect --seed $(DEMO_SEED)
	$(RINGTRACE) rings --top 10
	$(RINGTRACE) eval --truth $(DEMO_DIR)/truth.csv

# Headless Chromium renders the ring dossier in tests/integration/test_dossier.py, which skips that
# test without it (and fails under CI=true). Installed with apt when missing; a note when it cannot be.
CHROMIUM_MISSING := tests/integration/test_dossier.py skips its rendering test (and fails under CI=true)
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make: chromium is not installed and apt-get is not available: install Chromium yourself;" \
	       "until then $(CHROMIUM_MISSING)"; \
	else \
	  if [ "$$(id -u)" -eq 0 ]; then as_root=; else as_root="sudo -n"; fi; \
	  echo "make: chromium is missing: installing it (apt-get install -y chromium)"; \
	  { $$as_root apt-get update -qq && \
	    $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "make: could not install chromium (it needs root and the Debian archive): $(CHROMIUM_MISSING)"; \
	fi

test: install chromium
	$(TEST_ENV) $(RINGTRACE) neo4j start
	$(TEST_ENV) $(BIN)/python -m pytest; status=$$?; \
	  $(TEST_ENV) $(RINGTRACE) neo4j stop; exit $$status

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

neo4j-start: install
	$(RINGTRACE) neo4j start

neo4j-stop: install
	$(RINGTRACE) neo4j stop

clean:
	-$(RINGTRACE) neo4j stop
	rm -rf .neo4j .neo4j-test demo

# Benchmarks print tables; they are not tests. `bench` runs 100k and 1M accounts (about 40 minutes),
# then the GDS backend beside the in-process path at 100k (about 15 minutes; fetches GDS with Maven),
# the first load both ways, and an incremental run after 1,000 new links at 100k and 1M (about 25 minutes).
bench: install
	$(BIN)/python bench/detect.py
	$(BIN)/python bench/gds.py --accounts 100000
	$(BIN)/python bench/first_load.py --accounts 100000
	$(BIN)/python bench/first_load.py --accounts 1000000 --no-online
	$(BIN)/python bench/incremental.py --accounts 100000
	$(BIN)/python bench/incremental.py --accounts 1000000 --seed 12

# Detection, coordination and attribution quality through load -> detect -> eval (about 10 minutes).
quality: install
	RINGTRACE=$(RINGTRACE) bash bench/quality.sh
