# kombo-gateway: the GraphQL gateway, with GraphiQL's assets built in (no CDN at run time).
#   docker build -t kombo-gateway .
#   docker run -p 8000:8000 kombo-gateway                      # embedded sandbox upstream
#   docker run -p 8000:8000 -e KOMBO_API_KEY=... kombo-gateway  # Kombo itself

# 1. GraphiQL's browser assets: npm ci from the committed lock file, then build.mjs copies the
#    builds and our own init.js/page.css into static/ (the same steps as `make assets`).
FROM node:20-bookworm-slim AS graphiql
WORKDIR /build
COPY gateway/graphiql/package.json gateway/graphiql/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY gateway/graphiql/build.mjs gateway/graphiql/init.js gateway/graphiql/page.css ./
RUN npm run --silent build

# 2. The gateway as a wheel, with those assets as package data.
FROM python:3.11-slim AS wheel
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
COPY --from=graphiql /build/static gateway/graphiql/static
RUN pip wheel --no-deps --wheel-dir /wheels .

# 3. The runtime: the wheel and its dependencies (no dev extras, no source tree), as a non-root user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin gateway
COPY --from=wheel /wheels /tmp/wheels
RUN pip install /tmp/wheels/*.whl && rm -rf /tmp/wheels
USER 10001:10001
WORKDIR /home/gateway
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
# No curl in the slim image: Python asks /healthz itself (bypassing any proxy set in the environment).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.build_opener(r.ProxyHandler({})).open('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
CMD ["python", "-m", "gateway", "serve"]
