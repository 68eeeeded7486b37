PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,app]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/osteoqsp simulate knapen2013-placebo -o out/demo/placebo --force
	$(BIN)/osteoqsp simulate knapen2013-mk7 -o out/demo/mk7 --force
	$(BIN)/python -m osteoqsp.shells.demo out/demo

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
		|| echo "chromium could not be installed: the browser tests (tests/browser) will be skipped"
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out .pytest_cache
