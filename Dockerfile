# One image, three roles (web, worker, beat); see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 panel

COPY pyproject.toml README.md ./
RUN pip install .

COPY . .
RUN mkdir -p var staticfiles && chown -R panel:panel var \
    && DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER panel
EXPOSE 8000
CMD ["gunicorn", "panel.wsgi:application", "-c", "panel/gunicorn.conf.py"]
