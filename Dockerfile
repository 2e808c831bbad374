FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HTTP_PORT=8080
WORKDIR /app
# The runtime lock only (no test tools), every file's hash checked; pip and setuptools come from
# it too. Then the project itself, built with that setuptools and without fetching anything.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY api_client ./api_client
COPY storage ./storage
COPY bot ./bot
RUN pip install --no-deps --no-build-isolation . && useradd --system --uid 10001 --home /app bot && mkdir -p /app/data \
    && chown bot /app/data
USER bot
VOLUME ["/app/data"]
EXPOSE 8080
# Shell form so a changed HTTP_PORT is followed; /health answers 503 when the database is down.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import os,sys,urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('HTTP_PORT', '8080'), timeout=4).status != 200)"
CMD ["python", "-m", "bot"]
