"""WSGI entry point of the web server (granian in production, see the README)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanlian.config.settings")
application = get_wsgi_application()

from .startup import warm_up  # noqa: E402 (after Django is set up)

warm_up()
