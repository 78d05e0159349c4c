# Weerbaar bot: python:3.10-slim, pinned dependencies, NLU model trained at build, non-root.
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PORT=8080

RUN useradd --create-home --uid 10001 weerbaar
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock && pip check

COPY --chown=weerbaar:weerbaar . .
USER weerbaar
RUN python -m nlu train

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8080\")}/healthz', timeout=4)"

CMD ["python", "-m", "bot", "run"]
