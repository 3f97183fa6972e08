# kombo-gateway: `make run` serves GraphiQL on the embedded sandbox; `make test` installs everything and runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps

.PHONY: run test install lock assets chromium audit-deps apq-deps clients-deps codegen-deps live-deps frontend-deps mesh-deps lint schema clean bench bench-live wrk redis

$(STAMPS):
	mkdir -p $(STAMPS)

# The local virtualenv with the gateway and its dev tools, exactly as locked (re-made when the
# lock changes): every package pinned and hash-checked, then the gateway itself without deps.
$(STAMPS)/venv: pyproject.toml requirements-dev.lock | $(STAMPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Re-pin every Python dependency (after editing pyproject.toml's dependencies): the runtime lock
# the image installs, and the dev lock `make test` installs. Commit both.
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --quiet
lock: $(STAMPS)/venv
	$(LOCK) --extra otel -o requirements.lock
	$(LOCK) --extra otel --extra dev -o requirements-dev.lock

install: $(STAMPS)/venv assets

# GraphiQL's JS/CSS, installed from the npm lock file and copied into gateway/graphiql/static/.
assets: $(STAMPS)/venv
	@test -d $(GRAPHIQL)/node_modules || rm -f $(STAMPS)/graphiql-npm
	@test -f $(GRAPHIQL)/static/graphiql.min.js || rm -f $(STAMPS)/graphiql-assets
	@$(MAKE) --no-print-directory $(STAMPS)/graphiql-assets

GRAPHIQL := gateway/graphiql

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/graphiql-npm: $(GRAPHIQL)/package-lock.json $(GRAPHIQL)/package.json | $(STAMPS)
	cd $(GRAPHIQL) && npm ci --no-audit --no-fund
	touch $@

# build.mjs copies the installed builds and our own init.js/page.css into $(GRAPHIQL)/static/.
$(STAMPS)/graphiql-assets: $(STAMPS)/graphiql-npm $(GRAPHIQL)/build.mjs $(GRAPHIQL)/init.js $(GRAPHIQL)/page.css
	cd $(GRAPHIQL) && npm run --silent build
	touch $@

# Debian's chromium for the browser tests (never `playwright install`: it downloads its own browser).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Debian's wrk, the load generator of `make bench` (and of its smoke test in tests/bench/).
wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

# Debian's redis-server for the cache tests (tests/test_redis_pages.py, tests/test_shared_redis.py, tests/e2e/test_cache.py; they start their own on a free port, and stop it).
redis:
	@command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

# npm's graphql-http audit, used by tests/e2e/test_graphql_over_http.py.
audit-deps:
	@test -d $(HTTP_AUDIT)/node_modules/graphql-http || rm -f $(STAMPS)/http-audit-npm
	@$(MAKE) --no-print-directory $(STAMPS)/http-audit-npm

HTTP_AUDIT := tests/e2e/http_audit

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/http-audit-npm: $(HTTP_AUDIT)/package-lock.json $(HTTP_AUDIT)/package.json | $(STAMPS)
	cd $(HTTP_AUDIT) && npm ci --no-audit --no-fund
	touch $@

# Apollo Client's persisted-queries link, used by tests/e2e/test_persisted_queries.py.
apq-deps:
	@test -d $(APQ_E2E)/node_modules/@apollo/client || rm -f $(STAMPS)/apq-npm
	@$(MAKE) --no-print-directory $(STAMPS)/apq-npm

APQ_E2E := tests/e2e/apq

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/apq-npm: $(APQ_E2E)/package-lock.json $(APQ_E2E)/package.json | $(STAMPS)
	cd $(APQ_E2E) && npm ci --no-audit --no-fund
	touch $@

# Relay (relay-compiler's own binary and relay-runtime) and Apollo Client's cache, used by
# tests/e2e/test_normalized_clients.py.
clients-deps:
	@test -d $(CLIENTS_E2E)/node_modules/relay-compiler || rm -f $(STAMPS)/clients-npm
	@$(MAKE) --no-print-directory $(STAMPS)/clients-npm

CLIENTS_E2E := tests/e2e/clients

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/clients-npm: $(CLIENTS_E2E)/package-lock.json $(CLIENTS_E2E)/package.json | $(STAMPS)
	cd $(CLIENTS_E2E) && npm ci --no-audit --no-fund
	touch $@

# GraphQL Code Generator's client preset and TypeScript, used by tests/e2e/test_codegen.py.
codegen-deps:
	@test -d $(CODEGEN_E2E)/node_modules/@graphql-codegen/cli || rm -f $(STAMPS)/codegen-npm
	@$(MAKE) --no-print-directory $(STAMPS)/codegen-npm

CODEGEN_E2E := tests/e2e/codegen

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/codegen-npm: $(CODEGEN_E2E)/package-lock.json $(CODEGEN_E2E)/package.json | $(STAMPS)
	cd $(CODEGEN_E2E) && npm ci --no-audit --no-fund
	touch $@

# npm's graphql-ws and graphql-sse clients (and ws, Node's WebSocket), used by tests/e2e/test_live.py.
live-deps:
	@test -d $(LIVE_E2E)/node_modules/graphql-sse || rm -f $(STAMPS)/live-npm
	@$(MAKE) --no-print-directory $(STAMPS)/live-npm

LIVE_E2E := tests/e2e/live

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/live-npm: $(LIVE_E2E)/package-lock.json $(LIVE_E2E)/package.json | $(STAMPS)
	cd $(LIVE_E2E) && npm ci --no-audit --no-fund
	touch $@

# Apollo Client 4 and 3, urql + Graphcache, Relay's runtime, GraphQL Code Generator and esbuild,
# used by tests/browser/test_frontend_apps.py to bundle the README's frontend snippets.
frontend-deps:
	@test -d $(FRONTEND_E2E)/node_modules/esbuild || rm -f $(STAMPS)/frontend-npm
	@$(MAKE) --no-print-directory $(STAMPS)/frontend-npm

FRONTEND_E2E := tests/browser/frontend

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/frontend-npm: $(FRONTEND_E2E)/package-lock.json $(FRONTEND_E2E)/package.json | $(STAMPS)
	cd $(FRONTEND_E2E) && npm ci --no-audit --no-fund
	touch $@

# GraphQL Mesh (CLI + OpenAPI handler), a target of `make bench` only (bench/graphql_mesh.py).
mesh-deps:
	@test -x $(MESH_BENCH)/node_modules/.bin/mesh || rm -f $(STAMPS)/mesh-npm
	@$(MAKE) --no-print-directory $(STAMPS)/mesh-npm

MESH_BENCH := bench/mesh

# `npm ci` again only when the lock file (or package.json, which it must match) changes.
$(STAMPS)/mesh-npm: $(MESH_BENCH)/package-lock.json $(MESH_BENCH)/package.json | $(STAMPS)
	cd $(MESH_BENCH) && npm ci --no-audit --no-fund
	touch $@

# The gateway on the embedded sandbox, which edits a few records every 5 s and says so by webhook
# (README "Live changes"; SANDBOX_CHANGE_EVERY=0 make run: no edits).
run: install
	SANDBOX_CHANGE_EVERY=$${SANDBOX_CHANGE_EVERY:-5} $(PY) -m gateway serve

# The suite on both cores (pytest-xdist; each worker starts its own servers), then the tests
# marked serial alone: they measure CPU time, memory or timing, which a busy neighbour would skew.
test: install chromium audit-deps apq-deps clients-deps codegen-deps live-deps frontend-deps wrk redis
	$(PY) -m pytest -n 2 -m "not serial"
	$(PY) -m pytest -m serial

# The load benchmark (a few minutes; bench/README.md). Options: make bench BENCH_ARGS='--help'.
# Then (a) again with one gateway worker per core, as many as GraphQL Mesh has, in issue 12's
# setup (an upstream answering at once, 10 clients; WORKERS_ARGS), and the live one: 1,000
# WebSocket subscribers on one worker receive 5 changes (LIVE_ARGS).
bench: install wrk mesh-deps
	$(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench --scenarios a --workers $$(nproc) --latency-ms 0 --connections 10 \
		--output bench/results/workers.md $(WORKERS_ARGS)
	$(PY) -m bench.live $(LIVE_ARGS)

# The live benchmark alone (~1 minute): make bench-live LIVE_ARGS='--subscribers 2000'.
bench-live: install
	$(PY) -m bench.live $(LIVE_ARGS)

lint: $(STAMPS)/venv
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check gateway tests bench
	$(VENV)/bin/ruff format --check gateway tests bench
	$(VENV)/bin/mypy

schema: $(STAMPS)/venv
	$(PY) -m gateway schema > schema.graphql

clean:
	rm -rf $(VENV) $(STAMPS) gateway/graphiql/static gateway/graphiql/node_modules $(FRONTEND_E2E)/build
