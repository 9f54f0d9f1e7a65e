# Production image for the pre-order storefront: one image for web (gunicorn), the Celery
# worker, Celery beat and the one-shot migrate job (see docker-compose.yml).
# All runtime configuration comes from the environment (preorder_shop/settings.py); nothing
# secret is baked in. Build: docker build -t preorder-shop .
FROM python:3.11-slim

# STATIC_ROOT: collectstatic writes here at build time and ManifestStaticFilesStorage reads
# its manifest from here at run time, so both must see the same path.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=preorder_shop.settings \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first, read from pyproject.toml, so this layer is reused until they change.
# psycopg[binary] ships its own libpq, so no system packages are needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(deps))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself. Editable, so the only copy of the code is /app: templates/ and
# the static sources live next to the packages, and manage.py, gunicorn and celery all
# import the same files.
COPY . .
RUN pip install --no-deps -e .

# Static files with the production storage (DEBUG=0 selects ManifestStaticFilesStorage).
# The key is a throwaway that exists only for this command; it is not kept in the image.
RUN DEBUG=0 SECRET_KEY="collectstatic-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    python manage.py collectstatic --noinput -v 0

# Run as an unprivileged user; numeric, so orchestrators can verify it is not root.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app
USER 10001:10001

EXPOSE 8000
CMD ["gunicorn", "--config", "preorder_shop/gunicorn.py", "preorder_shop.wsgi", "--bind", "0.0.0.0:8000"]
