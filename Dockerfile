# Production image: the same pinned dependencies as ./egide, Debian's Chromium and fonts,
# gunicorn for the web, the same image for the Dramatiq worker and the scheduler.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=saas.settings.production \
    EGIDE_CHROMIUM_PATH=/usr/bin/chromium-headless-shell \
    EGIDE_STATIC_ROOT=/app/var/static \
    EGIDE_MEDIA_ROOT=/app/var/media

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       chromium-headless-shell fonts-dejavu-core fonts-liberation poppler-utils openssl \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 egide
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=egide:egide . .
RUN mkdir -p var/static var/media var/evidence && chown -R egide:egide var \
    && DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost \
       DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
       STRIPE_SECRET_KEY=sk_build_only STRIPE_WEBHOOK_SECRET=whsec_build_only \
       EGIDE_TSA_URL=https://tsa.invalid/ EGIDE_TSA_CERT_FILE=/dev/null EGIDE_TSA_CA_FILE=/dev/null \
       python manage.py collectstatic --noinput

USER egide
EXPOSE 8000
# Readiness (saas.health): JSON on any host, before tenant resolution; 503 when a dependency is
# down. /healthz/live answers while the process is up, whatever the dependencies.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1
CMD ["gunicorn", "saas.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--preload"]
