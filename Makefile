# `make demo` and `make test` work on a fresh machine with only Python 3.10+:
# they create .venv, install augkit with the pinned versions in constraints.txt, then run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.augkit-installed
DEMO_OUT ?= demo_out

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The demo sizes itself to BUDGET minutes of compute (default 8); the install is timed apart.
demo:
	@start=$$(date +%s); $(MAKE) --no-print-directory $(STAMP) && \
		echo "install: $$(( $$(date +%s) - start )) s"
	$(BIN)/python scripts/demo.py --out $(DEMO_OUT) $(if $(FULL),--full) \
		$(if $(BUDGET),--budget-minutes $(BUDGET))

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=10
	$(BIN)/ruff check .

lint: $(STAMP)
	$(BIN)/ruff check .

# The peers (albumentations, kornia, scikit-image) are an optional extra.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python benchmarks/photometric.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
