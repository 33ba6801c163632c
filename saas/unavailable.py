"""A clean 503 instead of a 500 page when the database cannot be reached.

When PostgreSQL is down (or the connection to it is cut), the first query of a request fails:
django-tenants' middleware looks the host up before anything else. Django turns the exception
into a 500 error page; this middleware, placed before the tenant middleware, turns such a
response into a short French 503 page with ``Retry-After``, as for any temporary outage. It
recognises the case from ``got_request_exception`` (sent inside the ``except`` block, so the
exception is at hand) rather than guessing from the status code alone.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

FLAG = "_egide_database_unavailable"
RETRY_AFTER_S = 30
PAGE = (
    "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
    "<title>Service momentanément indisponible</title></head><body>"
    "<h1>Service momentanément indisponible</h1>"
    "<p>Le service ne peut pas traiter votre demande pour le moment. Rien n'a été perdu : "
    "réessayez dans quelques instants.</p></body></html>"
)


def _note_database_error(sender, request=None, **kwargs) -> None:  # noqa: ARG001
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, OperationalError | InterfaceError):
        setattr(request, FLAG, True)


got_request_exception.connect(_note_database_error, dispatch_uid="egide-database-unavailable")


def unavailable_response() -> HttpResponse:
    response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, FLAG, False):
            logger.warning("Database unavailable: 503 for %s %s", request.method, request.path)
            return unavailable_response()
        return response
