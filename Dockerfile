# Plan Bot: `planbot serve` on a slim Python, as a non-root user, from the lock file.
# Build: docker build -t planbot .   Run: see README "Running in production".

FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY jobs ./jobs
COPY migrations ./migrations
RUN uv sync --frozen --no-dev --no-editable --python /usr/local/bin/python3

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 planbot && mkdir /data && chown planbot /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PLANBOT_LOG_FORMAT=json \
    DATABASE_URL=sqlite:////data/planbot.db \
    PORT=3000
USER planbot
WORKDIR /data
VOLUME /data
EXPOSE 3000
# /healthz answers in both modes (in Socket Mode it is the only HTTP route).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"
CMD ["planbot", "serve"]
