import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.production")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (configured by get_wsgi_application)

if settings.EGIDE_NLP_PRELOAD:
    # The web process checks doctors' replies and letter texts with spaCy: load it now, before
    # gunicorn forks its workers (--preload), not on a doctor's first draft in each worker.
    from cover.reply_check.model import nlp_preload

    nlp_preload()
