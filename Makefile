# make quickstart : set up .venv, make the synthetic data set, train and test
# make test       : set up .venv and run the test suite without the
#                   end-to-end runs (pytest marker `e2e`, setup.cfg)
# make test-e2e   : set up .venv and run only the end-to-end runs
# make test-all   : set up .venv and run every test (what .ci/run runs,
#                   as `make test` then `make test-e2e`)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# PyTorch pins that MMPretrain 1.2 / mmengine 0.10.7 are tested with here;
# override for another CUDA, e.g. make test TORCH="torch==2.5.1 torchvision==0.20.1"
TORCH ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

.PHONY: install quickstart test test-e2e test-all

install: $(STAMP)

$(STAMP): setup.py setup.cfg requirements/runtime.txt requirements/tests.txt requirements/optional.txt requirements/deploy.txt requirements/mminstall.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e . -r requirements/tests.txt
	touch $(STAMP)

quickstart: install
	$(PY) tools/quickstart.py

test: install
	$(PY) -m pytest tests -m "not e2e"

test-e2e: install
	$(PY) -m pytest tests -m e2e

test-all: install
	$(PY) -m pytest tests
