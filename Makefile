# The two commands of the README: `make demo` and `make test`.
# Both set everything up first (scripts/setup.sh), into .venv/.

VENV := .venv
STAMP := $(VENV)/.setup-done

.PHONY: demo test setup bench

demo: $(STAMP)
	$(VENV)/bin/interp demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh models/catalog.toml
	bash scripts/setup.sh
	touch $@

bench: $(STAMP)
	$(VENV)/bin/python scripts/bench_asr.py
	$(VENV)/bin/python scripts/bench_mt.py --live
	$(VENV)/bin/python scripts/bench_fanout.py
	$(VENV)/bin/python scripts/bench_archive.py
