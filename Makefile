# Build and test the book. GNU make; needs python3 (3.10+), node/npm, and PyPI + npm registry access.
#   make book   build the HTML book into _build/html
#   make test   lint, strict book build, unit tests, doctests and every notebook (nbval)
#   make bench  build the book, then print a table of what the course costs (benchmarks/bench.py)
#   make robustness  every chapter for seed shifts 0, 1, 2 x torch threads 1, 2 (six runs),
#               each from an empty cache, and a table of every claim's margin
#               (scripts/check_robustness.py)
#   make clean  remove _build (including the notebook execution cache)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book

VENV := .venv
PY := $(VENV)/bin/python
JB := $(VENV)/bin/jupyter-book
RUFF := $(VENV)/bin/ruff
# torch is installed on its own first: a bare `torch` requirement would pull the multi-GB CUDA build.
# Where no CPU build is at hand, point pip at one: TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_VERSION := 2.13.0
TORCH_INDEX_URL ?=
INSTALLED := $(VENV)/.installed
# The exact versions to install: constraints.txt pins some packages that need Python 3.11, so
# Python 3.10 (the declared minimum) has a set of its own.
PYTHON ?= python3
CONSTRAINTS := $(shell $(PYTHON) -c 'import sys; print("constraints-py310.txt" if sys.version_info < (3, 11) else "constraints.txt")')

# Browser libraries served from the book itself, never from a CDN (see _config.yml: mathjax_path,
# nb_ipywidgets_js, html_extra_path). Pinned; `npm pack` fetches just the package tarball (no deps).
MATHJAX_VERSION := 3.2.2
WIDGETS_HTML_MANAGER_VERSION := 1.0.15
REQUIREJS_VERSION := 2.3.8
VENDOR := .vendor
VENDOR_HTML := $(VENDOR)/html/vendor
VENDORED := $(VENDOR)/.vendored-mathjax-$(MATHJAX_VERSION)-widgets-$(WIDGETS_HTML_MANAGER_VERSION)-requirejs-$(REQUIREJS_VERSION)

.PHONY: setup vendor book test bench robustness clean

setup: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-dev.txt $(CONSTRAINTS) pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PY) -m pip install --quiet -r requirements-dev.txt -c $(CONSTRAINTS)
	@# rfc3987-syntax (pulled in by jsonschema[format-nongpl]) compiles ~35 parsers when imported,
	@# 1.4 s in every process that imports nbformat: each nbval run, each book build. No schema the
	@# book meets uses its "iri" formats, and jsonschema skips them when the package is missing.
	$(PY) -m pip uninstall --quiet --yes rfc3987-syntax
	touch $@

# A reader's Colab runtime, as far as widgets go (requirements-widgets7.txt): ipywidgets 7.7.1.
# The course goes in last, from this tree (`pip install -e .`; a chapter's first cell installs it
# from GitHub, with the same dependency ranges); the install must keep ipywidgets at 7.7.1.
VENV7 := .venv-widgets7
INSTALLED7 := $(VENV7)/.installed
$(INSTALLED7): requirements-widgets7.txt pyproject.toml
	test -x $(VENV7)/bin/python || $(PYTHON) -m venv $(VENV7)
	$(VENV7)/bin/python -m pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(VENV7)/bin/python -m pip install --quiet -r requirements-widgets7.txt
	$(VENV7)/bin/python -m pip install --quiet -e .
	@# fails when installing the course upgraded the reader's ipywidgets
	$(VENV7)/bin/python -c 'import ipywidgets as w; assert w.__version__ == "7.7.1", w.__version__'
	touch $@

vendor: $(VENDORED)

# MathJax: keep the one combined component the book loads (tex-mml-chtml.js) with what it loads
# lazily (TeX extensions, CHTML fonts, menu, accessibility); drop the other builds, SVG, Node parts.
# ipywidgets: embed-amd.js (with its icon fonts) and require.js, as myst-nb's defaults but local.
# tar is given plain member names, never patterns: GNU tar needs --wildcards for a pattern and
# macOS's bsdtar refuses that option, so the files of package/dist are picked by the shell instead.
$(VENDORED):
	rm -rf $(VENDOR)/npm $(VENDOR)/html $(VENDOR)/.vendored-*
	mkdir -p $(VENDOR)/npm/widgets $(VENDOR_HTML)/jupyter-widgets $(VENDOR_HTML)/requirejs
	cd $(VENDOR)/npm && npm pack --silent mathjax@$(MATHJAX_VERSION) \
		@jupyter-widgets/html-manager@$(WIDGETS_HTML_MANAGER_VERSION) requirejs@$(REQUIREJS_VERSION)
	tar -xzf $(VENDOR)/npm/mathjax-$(MATHJAX_VERSION).tgz -C $(VENDOR)/npm package/es5
	mv $(VENDOR)/npm/package/es5 $(VENDOR_HTML)/mathjax
	find $(VENDOR_HTML)/mathjax -maxdepth 1 -name '*.js' ! -name tex-mml-chtml.js -delete
	rm -rf $(VENDOR_HTML)/mathjax/adaptors $(VENDOR_HTML)/mathjax/output/svg*
	tar -xzf $(VENDOR)/npm/jupyter-widgets-html-manager-$(WIDGETS_HTML_MANAGER_VERSION).tgz \
		-C $(VENDOR)/npm/widgets --strip-components=2 package/dist
	cd $(VENDOR)/npm/widgets && mv embed-amd.js *.woff* *.ttf *.eot *.svg \
		$(abspath $(VENDOR_HTML))/jupyter-widgets/
	rm -rf $(VENDOR)/npm/widgets
	tar -xzf $(VENDOR)/npm/requirejs-$(REQUIREJS_VERSION).tgz -C $(VENDOR_HTML)/requirejs \
		--strip-components=1 package/require.js
	touch $@

# A chapter that fails to execute leaves its traceback in _build/html/reports/ (myst-nb), but
# Jupyter Book still says "build succeeded": fail here instead, and show the error. After such a
# failure the next build re-reads every page (--all), or the failed page would count as done.
REPORTS := _build/html/reports
book: setup vendor
	if [ -d $(REPORTS) ]; then rm -rf $(REPORTS); all=--all; else all=; fi; \
	$(JB) build . $$all
	@if [ -d $(REPORTS) ]; then \
		logs=$$(find $(REPORTS) -name '*.err.log' | sort); \
		for log in $$logs; do \
			echo; echo "=== the end of $$log ==="; \
			sed 's/\x1b\[[0-9;]*m//g' "$$log" | tail -n 15; \
		done; \
		echo; echo "make book: these chapters failed to execute (full tracebacks in $(REPORTS)):"; \
		for log in $$logs; do echo "  $$log"; done; \
		exit 1; \
	fi
	@echo "Open _build/html/index.html in a browser (or run: python -m http.server -d _build/html)"

# axe-core, for the accessibility audit of tests/test_browser.py only: kept out of .vendor/html, so
# the book never serves it.
AXE_VERSION := 4.14.1
AXE := $(VENDOR)/test/axe-core-$(AXE_VERSION)/axe.min.js
$(AXE):
	rm -rf $(VENDOR)/test
	mkdir -p $(dir $@)
	cd $(VENDOR)/test && npm pack --silent axe-core@$(AXE_VERSION)
	tar -xzf $(VENDOR)/test/axe-core-$(AXE_VERSION).tgz -C $(dir $@) --strip-components=1 \
		package/axe.min.js

# The tests run the chapters as a reader's fresh runtime would: an empty cache and, at the default
# seed, training made to fail except in the demos whose training is the lesson (an IPython startup
# file in every kernel, tests/no_training_startup.py): every other model must load, shipped.
FRESH := _build/fresh-runtime
test: setup vendor $(INSTALLED7) $(AXE)
	$(RUFF) check vae_utils tests benchmarks scripts notebooks book/_ext conftest.py
	$(RUFF) format --check vae_utils tests benchmarks scripts notebooks book/_ext conftest.py
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(JB) build . --all -W --keep-going
	rm -rf $(FRESH) && mkdir -p $(FRESH)/ipython/profile_default/startup $(FRESH)/cache
	cp tests/no_training_startup.py $(FRESH)/ipython/profile_default/startup/
	IPYTHONDIR=$(abspath $(FRESH))/ipython VAE_UTILS_CACHE=$(abspath $(FRESH))/cache \
		VAE_UTILS_TRAINING_LOG=$(abspath $(FRESH))/demos.jsonl \
		$(PY) -m pytest tests vae_utils notebooks --doctest-modules --nbval-lax --nbval-current-env -p no:cacheprovider
	@if [ -f $(FRESH)/demos.jsonl ]; then echo "The demos' training:"; cat $(FRESH)/demos.jsonl; fi

# Not a test: timings depend on the machine. Builds first, so every cache is warm.
bench: book
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# Not part of `make test`: it executes every chapter six times from an empty cache.
robustness: setup
	$(PY) scripts/check_robustness.py $(ROBUSTNESS_ARGS)

clean:
	rm -rf _build
