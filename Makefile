# The two commands a fresh machine needs: `make demo` and `make test`. Each creates .venv and
# installs everything first (Lava included, see DESIGN.md: lava-nc 0.10 declares Python < 3.11,
# so it is installed without its metadata checks and its own requirements are pinned in
# pyproject.toml's `lava` extra).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,lava,demo]'
	$(PY) -m pip install -q --no-deps --ignore-requires-python lava-nc==0.10.0
	# PyNN's backend-agnostic system scenarios ship only in its sdist; unpack them for the test suite.
	rm -rf $(VENV)/pynn-sdist && mkdir -p $(VENV)/pynn-sdist
	$(PY) -m pip download -q --no-deps --no-binary :all: PyNN==0.13.0 -d $(VENV)/pynn-sdist
	tar xzf $(VENV)/pynn-sdist/pynn-0.13.0.tar.gz -C $(VENV)/pynn-sdist
	# pyNN.neuron compiles its NMODL mechanisms on first import with nrnivmodl (from the venv's bin)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -c "import warnings; warnings.simplefilter('ignore'); import pyNN.neuron"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/federation.py

test: $(STAMP)
	$(PY) -m pytest -q

# Benchmarks need their references (NEST in .venv, The Virtual Brain in its own .venv-tvb because
# it pins a newer numpy than Lava allows); not part of the two commands.
bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	test -x .venv-tvb/bin/python || ($(PYTHON) -m venv .venv-tvb && .venv-tvb/bin/pip install -q tvb-library tvb-data)
	$(PY) benchmarks/brunel.py
	$(PY) benchmarks/loihi_emulator.py
	$(PY) benchmarks/meanfield_vs_tvb.py
	$(PY) benchmarks/cosim_overhead.py
	$(PY) benchmarks/hybrid_fc.py
	$(PY) benchmarks/biophysics_overhead.py
	$(PY) benchmarks/realtime_latency.py
	$(PY) benchmarks/va_benchmarks.py
	$(PY) benchmarks/partition_overhead.py
	$(PY) benchmarks/plasticity_vs_nest.py
	$(PY) benchmarks/loihi_learning.py
	$(PY) benchmarks/encoders.py
	$(PY) benchmarks/surrogate.py
	$(PY) benchmarks/controller_overhead.py
	$(PY) benchmarks/working_memory.py

clean:
	rm -rf $(VENV) build *.egg-info
