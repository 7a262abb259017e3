# pmo-sync container image: `docker build -t pmo-sync .` (see docs/operations.md).
# The configuration is mounted at /config, a SQLite store (if used) lives in /data;
# secrets come from the environment (--env-file, a Kubernetes Secret), never the image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pmosync ./pmosync
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim
RUN useradd --uid 10001 --create-home --home-dir /home/pmosync pmosync \
    && mkdir -p /config /data && chown pmosync /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels "pmo-sync[postgres]" \
    && rm -rf /wheels
USER 10001
WORKDIR /data
ENV PMOSYNC_CONFIG=/config/pmo-sync.yaml \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["pmo-sync"]
CMD ["sync"]
