"""gunicorn config of the staff console: `gunicorn -c deploy/gunicorn/console.conf.py`.

The console listens on its own port, which nginx exposes to the office network
only.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from gunicorn_common import *  # noqa: E402, F403

wsgi_app = "admin.wsgi:app"
bind = os.environ.get("CONSOLE_BIND", "127.0.0.1:8001")
proc_name = "gatekeeper-console"
