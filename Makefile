# Two commands for users: `make demo` and `make test`. See README.rst.
# ODOO_SRC (default /opt/odoo19/src) and ODOO_VENV (default /opt/odoo19/venv) can be overridden.
PYTHON ?= python3
DEV = $(PYTHON) tools/dev.py
VENV_PY = $${ODOO_VENV:-/opt/odoo19/venv}/bin/python

.PHONY: demo test test-strict setup lint bench soak shell pg-stop screenshots pot

demo:            ## PostgreSQL + SP-API simulator + Odoo with the addon on http://localhost:8069
	$(DEV) demo

test:            ## plain pytest suite + the addon's Odoo tests on a fresh database
	$(DEV) test $(if $(STRICT),--strict,)

test-strict:     ## what CI runs: missing Odoo or zero Odoo tests is a failure
	$(DEV) test --strict

screenshots:     ## README's screenshots, taken by the browser test of a new seller's first hour
	BAC_SCREENSHOTS=$(CURDIR)/docs/screenshots STRICT=1 $(DEV) test --odoo-only --tags /bind_amazon_connector:TestFirstHourTour
	cp docs/screenshots/overview.png bind_amazon_connector/static/description/screenshot_overview.png
	cp docs/screenshots/connection_form.png bind_amazon_connector/static/description/screenshot_connection.png
	cp docs/screenshots/orders.png bind_amazon_connector/static/description/screenshot_orders.png

setup:           ## Odoo source, virtualenv and PostgreSQL only
	$(DEV) setup

shell:           ## odoo-bin shell on the demo database
	$(DEV) odoo shell -d bac_demo

lint:
	$(VENV_PY) -m ruff check bind_amazon_connector tests tools benchmarks spapi_simulator setup.py
	$(VENV_PY) -m pylint --rcfile=.pylintrc bind_amazon_connector

bench:
	$(DEV) bench

pot:             ## i18n/bind_amazon_connector.pot from a fresh install (after changing user-visible strings)
	$(DEV) pot

soak:            ## 10,000 orders (QUICK=1: 1,000) through faults, kills and two Odoo servers; see README
	$(PYTHON) tools/soak.py $(if $(QUICK),--quick,)

pg-stop:
	$(DEV) pg-stop
