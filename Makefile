# The verbs people use. Everything runs inside .venv, created on first use from
# pyproject.toml and the pinned constraints, so a fresh machine needs only
# Python 3.11+, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
STORE  ?= build/demo.db

.PHONY: help venv demo test lab data bench lint clean

help:
	@echo "make demo   - set up .venv, build the demo store from data/synthetic/, print a summary"
	@echo "make test   - set up .venv, run unit tests, doctests and notebooks (nbval)"
	@echo "make lab    - open JupyterLab on notebooks/"
	@echo "make data   - regenerate data/synthetic/ (byte for byte)"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make lint   - the layer contract (import-linter), ruff and mypy"

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "calibrate needs Python 3.11 or newer; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[lab]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (calibrate)" > /dev/null
	touch $(STAMP)

# The test set-up: the test extra, plus crowd-kit, a test-only reference (Dawid-Skene).
# crowd-kit's metadata pulls in transformers (several hundred MB, used only by its text
# aggregators), so it goes in without its dependencies, plus nltk, which its aggregation
# package imports; pip is told not to warn about the transformers it then lacks.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[lab,test]'
	$(BIN)/python -m pip install --quiet --no-deps --no-warn-conflicts "crowd-kit==1.4.2"
	$(BIN)/python -m pip install --quiet --no-warn-conflicts -c requirements/constraints.txt "nltk==3.10.4"
	touch $(TEST_STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/calibrate demo --store $(STORE)

test: $(TEST_STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -p no:cacheprovider --nbval-lax tests src/calibrate notebooks

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

data: $(STAMP)
	$(BIN)/python -m calibrate.synth.programs data/synthetic

# Benchmark-only references, not dependencies of the kit. irrCAC's metadata pins
# scipy==1.12 and pandas<3, which would downgrade the kit's stack, so it is installed
# without its dependency pins (it runs on the current ones). crowd-kit (the Dawid-Skene
# reference) is installed with the test environment.
bench: $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet --no-deps --no-warn-conflicts "irrcac==0.4.4"
	$(BIN)/python benchmarks/run.py $(ARGS)

lint: $(TEST_STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src/calibrate

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis
