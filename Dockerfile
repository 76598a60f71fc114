# syntax=docker/dockerfile:1
# Assets stage: the pages' diagram viewer (bpmn-js from npm, bundled by esbuild into app/ui/static/vendor).
FROM node:20-slim AS assets
WORKDIR /ui
COPY app/ui/package.json app/ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY app/ui/assets ./assets
RUN npm run --silent build

# Build stage: a wheel of the app with its dependencies in a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
COPY --from=assets /ui/static/vendor ./app/ui/static/vendor
RUN /opt/venv/bin/pip install .

# Runtime stage: no compilers, a non-root user, the migrations and bundled models beside the code.
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VORONKA_DATABASE_URL=sqlite:////data/voronka.db \
    VORONKA_BPMN_DIR=/app/bpmn \
    VORONKA_LOG_JSON=true
RUN useradd --create-home --uid 10001 voronka && mkdir -p /data && chown voronka /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations ./migrations
COPY bpmn ./bpmn
USER 10001
VOLUME ["/data"]
EXPOSE 8000
# `docker stop` sends SIGTERM: uvicorn stops accepting, finishes in-flight requests (VORONKA_SHUTDOWN_SECONDS),
# then the embedded worker gives back the jobs it had claimed.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["voronka"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--migrate"]
