# The aggregator's image: the web (`aggregator serve`) and the worker (`aggregator worker`).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/aggregator
COPY pyproject.toml README.md scheduler.py ./
COPY aggregator ./aggregator
COPY connectors ./connectors
COPY dedupe ./dedupe
COPY search ./search
RUN pip install --no-cache-dir '.[postgres]' && useradd --system --home /srv/aggregator app \
    && mkdir -p /srv/aggregator/var && chown app /srv/aggregator/var
USER app
EXPOSE 8000 9101
CMD ["aggregator", "serve", "--host", "0.0.0.0", "--port", "8000"]
