# Two commands a learner needs: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-browser lab bench notebooks student gpu-check env clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[notebooks,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

env: $(STAMP)

demo: $(STAMP)
	$(BIN)/sasr-lite demo

# Notebooks run at the test scale (tiny sizes); the whole suite stays within minutes on 2 cores.
test: $(STAMP)
	SASR_LITE_SCALE=test MPLBACKEND=Agg $(BIN)/python -m pytest

# Only the browser tests (JupyterLab in headless Chromium, about a minute); fails, not skips, without Chromium.
test-browser: $(STAMP)
	SASR_LITE_SCALE=test MPLBACKEND=Agg SASR_LITE_REQUIRE_BROWSER=1 $(BIN)/python -m pytest tests/browser

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Re-execute every notebook in place at the lesson scale (CPU minutes), as the committed .ipynb show them.
notebooks: $(STAMP)
	$(BIN)/python -m sasr_lite.execute_notebooks --fresh --scale lesson

# Course labs: every notebook with its solutions replaced by stubs and no outputs, written outside
# the source tree (STUDENT; an existing folder is refused: it may hold a student's answers).
STUDENT ?= $(HOME)/sasr-lite-student
student: $(STAMP)
	$(BIN)/python -m sasr_lite.labs.student --out $(STUDENT)

bench: $(STAMP)
	$(BIN)/sasr-lite bench

# On a CUDA machine: bench in bf16, resident store, torchrun (NCCL) training, a notebook at the paper
# scale, in about 8 minutes; writes runs/gpu-check/report.json. Without CUDA it says so and exits 2.
gpu-check: $(STAMP)
	$(BIN)/python -m sasr_lite.gpu_check

clean:
	rm -rf runs .pytest_cache
