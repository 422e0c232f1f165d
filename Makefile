# The two commands of the README: `make demo` and `make test`.
# Both set everything up first (scripts/setup.sh), into .venv/.

VENV := .venv
STAMP := $(VENV)/.setup-done

.PHONY: demo test test-portability setup bench

demo: $(STAMP)
	$(VENV)/bin/interp demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

# The model tests once under each int8 kernel set CTranslate2 can pick on this CPU:
# a decode may differ between them, and the tests' bands must hold for every one.
PORTABLE_ISAS = GENERIC $(if $(shell grep -wm1 avx /proc/cpuinfo),AVX) \
	$(if $(shell grep -wm1 avx2 /proc/cpuinfo),AVX2) \
	$(if $(shell grep -wm1 avx512f /proc/cpuinfo),AVX512)

test-portability: $(STAMP)
	@failed=""; for isa in $(PORTABLE_ISAS); do \
		echo "== CT2_FORCE_CPU_ISA=$$isa"; \
		CT2_FORCE_CPU_ISA=$$isa $(VENV)/bin/python -m pytest -m model -p no:cacheprovider \
			|| failed="$$failed $$isa"; \
	done; \
	if [ -n "$$failed" ]; then echo "model tests failed under:$$failed"; exit 1; fi; \
	echo "model tests passed under: $(PORTABLE_ISAS)"

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh interp/data/catalog.toml
	bash scripts/setup.sh
	touch $@

bench: $(STAMP)
	$(VENV)/bin/python scripts/bench_asr.py
	$(VENV)/bin/python scripts/bench_mt.py --live
	$(VENV)/bin/python scripts/bench_fanout.py
	$(VENV)/bin/python scripts/bench_archive.py
