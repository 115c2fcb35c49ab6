"""gunicorn entry point: `gunicorn kiosk.wsgi:app`."""

from kiosk.app import create_app

app = create_app()
