# syntax=docker/dockerfile:1
#
# nbflow's image: the same image runs `nbflow server`, `nbflow worker` and `nbflow run`.
# Your pipelines come in a derived image (FROM this one; see docs/deploy.md).
#
#   docker build -t nbflow:0.1.0 .
#   docker build --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm -t nbflow:0.1.0-py3.12 .
#   docker run --rm nbflow:0.1.0 --help
#
# Build arguments
#   PYTHON_IMAGE  the slim Python base of both stages (they must match: the final stage
#                 reuses the build stage's virtual environment)
#   NODE_IMAGE    where the build stage takes `node` from, to build the JupyterLab
#                 extension that ships inside the wheel (Node >= 20.19; never in the
#                 final image)
#   EXTRAS        the wheel's extras to install (server and dask; add e.g. pandas)
#   UID           the numeric id of the unprivileged user the image runs as

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

# --- build: the wheel from this checkout, then a virtual environment holding it ----------
FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=server,dask
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /src
COPY . .
# hatch-jupyter-builder runs jlpm (from the build requirements) to build the labextension
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
    && python -m venv /opt/nbflow \
    && wheel="$(ls /dist/nbflow-*.whl)" \
    && /opt/nbflow/bin/pip install "${wheel}[${EXTRAS}]" \
    && /opt/nbflow/bin/nbflow server --help >/dev/null \
    && /opt/nbflow/bin/nbflow worker --help >/dev/null

# --- final: the virtual environment on a clean base, no compilers, not root --------------
FROM ${PYTHON_IMAGE}
ARG UID=10001
LABEL org.opencontainers.image.title="nbflow" \
      org.opencontainers.image.description="nbflow server, worker and run" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid "${UID}" nbflow \
    && useradd --system --uid "${UID}" --gid nbflow --home-dir /home/nbflow \
       --create-home --shell /usr/sbin/nologin nbflow \
    && mkdir -p /var/lib/nbflow /work/data \
    && chown -R nbflow:nbflow /var/lib/nbflow /work
COPY --from=build /opt/nbflow /opt/nbflow
# XDG_DATA_HOME: nbflow's data folder (the server's default database and generated
# token) is /var/lib/nbflow: mount a volume there to keep a SQLite database.
ENV PATH=/opt/nbflow/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_DATA_HOME=/var/lib \
    NBFLOW_HEALTHCHECK_URL=http://127.0.0.1:8082/healthz
USER ${UID}:${UID}
WORKDIR /work
VOLUME ["/var/lib/nbflow"]
EXPOSE 8082
# The server's liveness; a worker (no HTTP port) turns it off (docker-compose.yml does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['NBFLOW_HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["nbflow"]
# Listening beyond the container needs a token: -e NBFLOW_TOKEN=... or --token-file.
CMD ["server", "--host", "0.0.0.0", "--port", "8082"]
