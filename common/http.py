"""The request type of views that only signed-in users reach, for annotations.

Django types ``request.user`` as ``User | AnonymousUser``; behind ``login_required`` it is a
saved ``User``, which services that record who acted require. Annotating such a view's request
as ``AuthenticatedHttpRequest`` says so to mypy (the django-stubs recipe); at run time Django
still passes its own ``HttpRequest``: nothing here is ever instantiated.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind ``login_required``: ``user`` is a saved user."""

    user: User
