"""gunicorn config of the kiosk app: `gunicorn -c deploy/gunicorn/kiosk.conf.py`.

The kiosk listens on its own port, which nginx exposes to the lobby and yard
network; the console is never reachable there (CTPAT 10.4: drivers may not reach
the log).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from gunicorn_common import *  # noqa: E402, F403

wsgi_app = "kiosk.wsgi:app"
bind = os.environ.get("KIOSK_BIND", "127.0.0.1:8000")
proc_name = "gatekeeper-kiosk"
