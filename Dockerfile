# One image for every app service: intake, dispatcher, worker, beat, flower, migrate, paysandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# A fixed uid keeps file ownership predictable on mounted volumes.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app

# Requirements first, so a code change does not reinstall every dependency.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root: the service user can read it but never rewrite it.
COPY . .

USER app

EXPOSE 8000

CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", "--config", "python:intake.gunicorn_conf", "intake:create_app()"]
