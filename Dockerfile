# lambert: `lambert serve` as a non-root user, the database on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LAMBERT_DB=/data/lambert.db \
    LAMBERT_SLACK_HOST=0.0.0.0 \
    LAMBERT_HTTP_HOST=0.0.0.0

WORKDIR /app
# Dependencies first, pinned by constraints.txt, so code edits do not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY data ./data
RUN pip install -c constraints.txt . \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin lambert \
    && mkdir -p /data && chown lambert:lambert /data

USER lambert
VOLUME ["/data"]
# Slack HTTP mode listens here on every interface (LAMBERT_SLACK_HOST above): inside a
# container, loopback (lambert's default) would be unreachable from the published port.
EXPOSE 3000
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 CMD ["lambert", "health"]
CMD ["lambert", "serve"]
