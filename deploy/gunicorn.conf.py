"""gunicorn settings for the web process: `gunicorn -c deploy/gunicorn.conf.py prefstack.wsgi`."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = 60
# Uploads of large item files stream to disk; keep slow clients from pinning workers.
worker_tmp_dir = "/dev/shm"
accesslog = "-"
