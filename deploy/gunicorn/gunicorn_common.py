"""Settings both gunicorn configs share; each *.conf.py imports them, names its app.

Every value can be overridden from the environment, so the same files serve a
developer's `make run` on loopback and a facility's systemd units behind nginx.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Two workers per core suits a synchronous Flask app that waits on the database
# and on OpenCV; a 2-core kiosk server then runs four of each app.
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count())
worker_class = "sync"
# A photo upload from a slow lobby Wi-Fi must not be cut off, but a hung worker
# must not hold a kiosk forever.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in a native library (OpenCV, zxing)
# cannot grow without bound; the jitter keeps them from restarting together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200
# Request lines and headers are small here; refuse oversized ones early.
limit_request_line = 4094
limit_request_fields = 60
# The app logs each request itself (method, path, status, duration); gunicorn's
# access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Two servers on one machine would otherwise share gunicorn's one control socket.
control_socket_disable = True
# Trust X-Forwarded-* only from the local nginx (see deploy/nginx).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
