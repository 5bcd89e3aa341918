# The swpm image: Airflow 3 with this project (ingest/, dags/, dbt_project/, expectations/),
# installed from uv.lock exactly as `make setup` installs it. Every Airflow service of
# docker-compose.yml runs it; the service's command picks the component.
FROM python:3.11-slim-bookworm

# The uv release the Makefile bootstraps, so the image resolves the lock the same way.
ARG UV_VERSION=0.9.30
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/swpm/.venv \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/swpm/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/swpm/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SWPM_HOME=/data/swpm \
    GX_ANALYTICS_ENABLED=False \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False

RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
 && useradd --uid 50000 --gid 0 --create-home --home-dir /opt/airflow airflow

WORKDIR /opt/swpm

# 1. The locked dependencies, with the deployment group (Celery executor, Postgres driver, FAB
#    logins) and without the dev group, in their own layer so code changes rebuild fast.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --group deploy --no-install-project

# 2. The project itself.
COPY ingest ingest
COPY dags dags
COPY dbt_project dbt_project
COPY expectations expectations
COPY docker docker
RUN uv sync --frozen --no-dev --group deploy \
 && mkdir -p /data/swpm/landing /data/swpm/quarantine /data/swpm/warehouse /data/swpm/serving \
 && chown -R airflow:0 /data/swpm /opt/airflow

USER airflow
ENTRYPOINT ["airflow"]
CMD ["version"]
