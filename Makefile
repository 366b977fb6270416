# relance: two commands set everything up on a fresh machine.
#   make run   creates .venv, seeds the demo portfolio on first start, serves the app
#   make test  creates .venv, runs the linters and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint env bench tools clean lock

# Versions come from constraints.txt: two fresh machines install the same ones.
$(STAMP): pyproject.toml constraints.txt build-constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt \
	  --build-constraint build-constraints.txt -e '.[dev]'
	touch $(STAMP)

env: $(STAMP)

# The day's reminders go out by themselves from 07:30 (Paris), into var/outbox by default.
run: $(STAMP)
	$(BIN)/relance demo seed --if-empty --files 300
	RELANCE_RUN_AT=$${RELANCE_RUN_AT-07:30} \
	  RELANCE_CREDITOR_IBAN="$${RELANCE_CREDITOR_IBAN-FR76 3000 6000 0112 3456 7890 189}" \
	  $(BIN)/relance serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Browser tests drive Debian's Chromium through Playwright (no browser download); the
# PDF dossier's pages are rendered with poppler's pdftoppm; the mailbox tests read from a
# Dovecot IMAP server of their own. Installed as root if missing. The package starts the
# system's Dovecot on ports 143 and 993 where it can: the tests never use it, so it is
# stopped again at once.
tools:
	@{ command -v chromium && command -v pdftoppm && test -x /usr/sbin/dovecot; } \
	  >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && (apt-get update -qq && \
	    apt-get install -y -qq chromium poppler-utils dovecot-imapd >/dev/null && \
	    { ! [ -x /etc/init.d/dovecot ] || /etc/init.d/dovecot stop >/dev/null 2>&1 || :; }); \
	  } || \
	  echo "chromium, pdftoppm or dovecot is not installed: the tests that need them will say so"

# The suite runs in parallel processes (pytest-xdist, a test module per process), then the
# tests marked `alone` by themselves: they stop PostgreSQL, end its sessions or open dozens.
test: lint tools
	$(BIN)/pytest -m "not alone" --numprocesses auto --maxprocesses 4 --dist loadfile
	$(BIN)/pytest -m alone

# Every script in bench/ against PostgreSQL, then one table of all results.
bench: $(STAMP)
	$(BIN)/python -m bench.report

# Pins constraints.txt anew: the newest releases pyproject.toml allows, in a fresh venv.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet --build-constraint build-constraints.txt \
	  -e '.[dev]'
	{ head -n 2 constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable \
	  | grep -v '^relance'; } > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var .pytest_cache
