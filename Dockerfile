# Weerbaar bot: python:3.13-slim, pinned dependencies, non-root. No Rasa here: the NLU runs in
# its own service (nlu/Dockerfile); set NLU_URL and NLU_TOKEN (docker-compose.yml does).
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8080

RUN useradd --create-home --uid 10001 weerbaar
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock && pip check

COPY --chown=weerbaar:weerbaar . .
USER weerbaar

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8080\")}/healthz', timeout=4)"

CMD ["python", "-m", "bot", "run"]
