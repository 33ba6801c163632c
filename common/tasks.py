"""Sending background work from any app, bound to an insurer's schema.

Every Dramatiq message carries the schema it was sent for under ``SCHEMA_OPTION``;
``tenants.task_middleware.TenantMiddleware`` activates that schema before the actor runs. The
two helpers here are all the apps need to send work; they import no app: the insurers come from
django-tenants' tenant model (``settings.TENANT_MODEL``, read by ``get_tenant_model``).
"""

from __future__ import annotations

from typing import cast

from django.db import connection as _connection
from django.db import transaction
from django_tenants.postgresql_backend.base import DatabaseWrapper
from django_tenants.utils import get_public_schema_name, get_tenant_model

SCHEMA_OPTION = "tenant_schema"
TENANT_READY = "ready"  # tenants.models.Insurer.Status.READY

connection = cast(DatabaseWrapper, _connection)


def tenants_fan_out(*, actor, kwargs: dict | None = None) -> list[str]:
    """Send one message of ``actor`` per ready insurer, each bound to that insurer's schema."""
    schemas = list(
        get_tenant_model()
        ._default_manager.filter(status=TENANT_READY)
        .exclude(schema_name=get_public_schema_name())
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        actor.send_with_options(kwargs=kwargs or {}, **{SCHEMA_OPTION: schema})
    return schemas


def task_enqueue_on_commit(*, actor, kwargs: dict | None = None) -> None:
    """Enqueue ``actor`` once the current transaction commits, bound to the current schema.

    The schema is read now, not at commit time, so the message runs where it was asked for.
    """
    schema = connection.schema_name
    transaction.on_commit(
        lambda: actor.send_with_options(kwargs=kwargs or {}, **{SCHEMA_OPTION: schema})
    )
