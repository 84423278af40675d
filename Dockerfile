# One image, four roles (web, worker, beat and the one-shot migrate); see docker-compose.yml and README's
# "Deploying". The code is root's and read-only to the panel user, which runs everything; only var/ is its own.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 --user-group panel

# The pinned runtime dependencies of pyproject.toml (no dev tools), in a layer of their own: a change to the
# code alone does not reinstall them. The project itself has no package to install (packages = []).
COPY pyproject.toml README.md ./
RUN pip install . && rm -rf build *.egg-info

COPY . .
# Static files are collected at build (whitenoise serves the hashed, compressed copies); the settings need a
# secret and a mail backend to load with DEBUG off, neither of which is kept in the image.
RUN mkdir -p var staticfiles \
    && DEBUG=0 SECRET_KEY=collectstatic-only EMAIL_URL=dummymail:// python manage.py collectstatic --noinput \
    && chown -R panel:panel var

USER panel
EXPOSE 8000
# The web role's check; compose gives worker and beat their own (manage.py healthcheck --role worker|beat).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "manage.py", "healthcheck", "--role", "web"]
CMD ["gunicorn", "panel.wsgi:application", "-c", "panel/gunicorn.conf.py"]
