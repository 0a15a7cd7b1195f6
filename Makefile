# clustermix: the two commands of the README.
#   make paper  - set up (.venv from the lock, TeX Live if missing) and run the whole workflow
#   make test   - the same set-up, then the test suite
# Anything after CORES=/SNAKEMAKE_ARGS= is passed through, e.g. make paper SNAKEMAKE_ARGS="-n".

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=
PYTEST_ARGS ?=
# Debian packages that provide pdflatex, latexmk and AASTeX (aastex631.cls is in texlive-publishers).
TEX_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-latex-extra \
	texlive-fonts-recommended texlive-plain-generic texlive-publishers texlive-bibtex-extra \
	latexmk poppler-utils
# Files the paper needs from them (aastex631 loads epsf.sty, from texlive-plain-generic).
TEX_FILES := aastex631.cls aasjournal.bst epsf.sty

.PHONY: paper test setup tex lint format clean-venv check-snakemake

# After a real (not dry) run: where the paper, the membership catalogues and the manifest are.
paper: setup
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	$(if $(filter -n --dry-run --dryrun,$(SNAKEMAKE_ARGS)),,@$(BIN)/python -m clustermix.provenance.outputs)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed tex

# The virtual environment is (re)built whenever the lock or the package metadata change.
$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; clustermix needs Python 3.11 (set PYTHON=...)" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# TeX Live from Debian packages, only when no LaTeX is found; as root we install it,
# otherwise we say what to install and stop.
tex:
	@if command -v latexmk >/dev/null 2>&1 && command -v pdflatex >/dev/null 2>&1 \
	    && command -v pdftotext >/dev/null 2>&1 \
	    && [ "$$(kpsewhich $(TEX_FILES) | wc -l)" = "$(words $(TEX_FILES))" ]; then \
	  : ; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing TeX Live from Debian packages: $(TEX_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	else \
	  echo "error: LaTeX (pdflatex, latexmk, pdftotext, $(TEX_FILES)) not found." >&2; \
	  echo "Install it, e.g. on Debian/Ubuntu: sudo apt-get install $(TEX_PACKAGES)" >&2; \
	  exit 1; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check src scripts tests bench
	$(BIN)/ruff format --check src scripts tests bench
	$(BIN)/snakefmt --check workflow
	$(BIN)/snakemake --lint

format: $(VENV)/.installed
	$(BIN)/ruff check --fix src scripts tests bench
	$(BIN)/ruff format src scripts tests bench
	$(BIN)/snakefmt workflow

clean-venv:
	rm -rf $(VENV)

# Re-test another Snakemake 9 release (README, "Development"): a throwaway environment
# with the lock's pins but that Snakemake (pip resolves its snakemake-interface-* packages),
# the tests of what clustermix reads from Snakemake, and a dry run of the tiny
# configuration, locally and with the SLURM profile.
#   make check-snakemake SNAKEMAKE_VERSION=9.0.0
SNAKEMAKE_VERSION ?= 9.0.0
CHECK_VENV := .venv-snakemake-$(SNAKEMAKE_VERSION)
check-snakemake:
	test -x $(CHECK_VENV)/bin/python || $(PYTHON) -m venv $(CHECK_VENV)
	grep -v '^snakemake' requirements.lock > $(CHECK_VENV)/requirements-without-snakemake.txt
	$(CHECK_VENV)/bin/python -m pip install --quiet -r $(CHECK_VENV)/requirements-without-snakemake.txt
	$(CHECK_VENV)/bin/python -m pip install --quiet snakemake==$(SNAKEMAKE_VERSION) \
	    $$(grep -E '^snakemake-executor-plugin-slurm(-jobstep)?==' requirements.lock)
	$(CHECK_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(CHECK_VENV)/bin/python -m pytest -p no:cacheprovider tests/test_snakemake_records.py
	$(CHECK_VENV)/bin/snakemake -n --nolock --quiet --configfile config/test.yaml
	$(CHECK_VENV)/bin/snakemake -n --nolock --quiet --configfile config/test.yaml \
	    --profile workflow/profiles/slurm
	@echo "Snakemake $(SNAKEMAKE_VERSION): the Snakemake tests and both dry runs passed"
