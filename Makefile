# The two commands: `make demo` and `make test`. Both work on a fresh machine
# with only Python >= 3.11, git and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The packages mypy checks strictly (pyproject.toml [tool.mypy]); a package joins the list
# once it is clean, and tests/test_types.py keeps this list and the config in step.
TYPED := workbench.model workbench.governance workbench.repo workbench.signing workbench.evidence workbench.bundle workbench.service workbench.notify workbench.interop workbench.demo workbench.cli workbench.tui

.PHONY: demo test lint typecheck format tools clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,spark]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench demo

tools:
	@bash scripts/ensure-tools.sh

test: $(STAMP) tools
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MAKE) typecheck

typecheck: $(STAMP)
	$(BIN)/mypy $(addprefix -p ,$(TYPED))

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info
