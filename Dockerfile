# kombo-gateway: the GraphQL gateway, with GraphiQL's assets built in (no CDN at run time).
#   docker build -t kombo-gateway .
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp kombo-gateway                      # sandbox
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp -e KOMBO_API_KEY=... kombo-gateway  # Kombo
#
# The runtime image holds python:3.11-slim and one virtualenv (/opt/venv): no compiler, no node,
# no source tree, no pip. It runs as uid/gid 10001 and writes nothing outside /tmp, so it runs
# with a read-only root filesystem; give it a small tmpfs (or emptyDir) at /tmp for Python's
# tempfile. Bytecode is compiled at build time and never written at run time.

# 1. GraphiQL's browser assets: npm ci from the committed lock file, then build.mjs copies the
#    builds and our own init.js/page.css into static/ (the same steps as `make assets`).
FROM node:20-bookworm-slim AS graphiql
WORKDIR /build
COPY gateway/graphiql/package.json gateway/graphiql/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY gateway/graphiql/build.mjs gateway/graphiql/init.js gateway/graphiql/page.css ./
RUN npm run --silent build

# 2. The gateway as a wheel (with those assets as package data), installed with its runtime
#    dependencies and the [otel] extra (tracing stays off until OTEL_EXPORTER_OTLP_ENDPOINT is
#    set) into a virtualenv that has no pip of its own; no dev extras. Every dependency comes
#    pinned and hash-checked from requirements.lock (`make lock`), then the wheel without deps.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY . .
COPY --from=graphiql /build/static gateway/graphiql/static
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --require-hashes -r requirements.lock \
    && pip --python /opt/venv/bin/python install --no-deps "$(ls /wheels/*.whl)"

# 3. The runtime: the virtualenv alone, as a non-root user with no home and no shell.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
# One worker per core the container may use (its --cpus or CPU limit); one on the sandbox.
ENV HOST=0.0.0.0 PORT=8000 GATEWAY_WORKERS=auto
EXPOSE 8000
# No curl in the slim image: Python asks /healthz itself (bypassing any proxy set in the environment).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.build_opener(r.ProxyHandler({})).open('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
# SIGTERM (Docker's and Kubernetes' stop signal) starts uvicorn's graceful shutdown.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "gateway", "serve"]
