# Reelscope on Cloud Run (`make deploy` builds it there with `gcloud beta run deploy --source .`).
# Python 3.11, the project's line: av 18.1.0 in requirements.txt is the last release for it.
FROM python:3.11-slim-bookworm

# No .pyc files in the image's folders, logs unbuffered for Cloud Logging, pip without a cache.
# Cloud Run sets PORT (8080 unless told otherwise); the data folder is the instance's own.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080 \
    REELSCOPE_DATA_DIR=/app/data

WORKDIR /app

# The wheels bring everything native (FFmpeg in av and imageio-ffmpeg): no apt packages.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code belongs to root and is read-only to the app; only the data folder is writable.
RUN useradd --no-log-init --create-home --uid 10001 --user-group reelscope \
    && mkdir /app/data \
    && chown reelscope:reelscope /app/data
COPY . .

# By number: a runtime that checks for a non-root user cannot resolve a name from the image.
USER 10001:10001
EXPOSE 8080

# Streamlit's own health endpoint, which the IAP gate leaves open (reelscope/iap_gate.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/_stcore/health', timeout=4)"]

# As `make run` starts it: serve.py (app.py plus the media route and, in IAP mode, the gate),
# on every interface of the container and on the port Cloud Run gives.
CMD ["sh", "-c", "exec streamlit run serve.py --server.port \"${PORT:-8080}\" --server.address 0.0.0.0 --server.headless true"]
