# syntax=docker/dockerfile:1
# ECM bot image: the wheel (with skills/ and shared/ inside) installed with constraints.txt by
# scripts/install-wheel.sh, the same script tests/test_package.py runs.
#   docker build -t ecm-bot:latest .
#   docker run --rm -p 3000:3000 --env-file .env ecm-bot:latest            # serve (HTTP or Socket Mode)
#   docker run --rm --env-file .env ecm-bot:latest scheduler --once        # any other command

# --- build: the wheel ---------------------------------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md constraints.txt ./
COPY bot ./bot
COPY skills ./skills
COPY shared ./shared
RUN python -m pip wheel --no-deps --wheel-dir /dist .

# --- runtime: the wheel in a venv, run as a non-root user -----------------------------------
# HEALTHCHECK: /healthz on $ECM_HEALTH_PORT when set (Socket Mode worker, scheduler, sheet sync),
# else on $PORT (the HTTP app).
FROM python:3.11-slim AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/ecm-bot/bin:$PATH \
    PORT=3000 ECM_DATA_DIR=/var/lib/ecm-bot
COPY constraints.txt scripts/install-wheel.sh /tmp/install/
COPY --from=build /dist/ /tmp/dist/
RUN PYTHON=python sh /tmp/install/install-wheel.sh /opt/ecm-bot /tmp/dist/ecm_bot-*.whl \
        /tmp/install/constraints.txt \
    && rm -rf /tmp/install /tmp/dist \
    && groupadd --system --gid 10001 ecm \
    && useradd --system --uid 10001 --gid ecm --home-dir /var/lib/ecm-bot --create-home ecm
USER 10001:10001
WORKDIR /var/lib/ecm-bot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('ECM_HEALTH_PORT') or os.environ.get('PORT', '3000')), timeout=4)"]
ENTRYPOINT ["ecm-bot"]
CMD ["serve"]
