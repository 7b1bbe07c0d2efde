# syntax=docker/dockerfile:1
# One image for the three services (`accueil serve geo|inventory|notify`) and the migrations Job
# (`accueil migrate`). Build it from the repository root:  docker build -t accueil:0.1.0 .

# Pin the same base in both stages: the virtualenv copied below points at this interpreter.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/accueil
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared/ shared/
COPY services/ services/
# A regular (not editable) install: the package, its migrations and static files land in the
# virtualenv, compiled to bytecode now because the root file system is read-only at run time.
RUN --mount=type=cache,target=/root/.cache/pip /opt/accueil/bin/pip install .

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 accueil \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin accueil
COPY --from=build /opt/accueil /opt/accueil
ENV PATH=/opt/accueil/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ACCUEIL_HOST=0.0.0.0
# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8001 8002 8003
ENTRYPOINT ["accueil"]
CMD ["--help"]
