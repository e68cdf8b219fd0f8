# eSocial — the two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYBABEL := $(VENV)/bin/pybabel
# Debian packages: xmlsec1 (the development IdP signs with it), chromium (browser tests),
# fonts-dejavu-core (the fonts embedded in decision letters).
DEBS   := xmlsec1 chromium fonts-dejavu-core

.PHONY: run test setup system-packages translations extract-messages clean

run: setup
	$(PY) -m devstack

test: setup
	$(PY) -m pytest

setup: system-packages $(VENV)/.installed translations

system-packages:
	@missing=""; \
	command -v xmlsec1 >/dev/null || missing="$$missing xmlsec1"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Install these Debian packages first: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

translations: $(VENV)/.installed
	$(PYBABEL) compile -d translations -D messages >/dev/null

# After changing user-visible strings: extract them and update the ro, ru and en catalogues.
extract-messages: $(VENV)/.installed
	$(PYBABEL) extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot . >/dev/null 2>&1
	$(PYBABEL) update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance
