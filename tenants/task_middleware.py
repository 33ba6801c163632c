"""Dramatiq middleware that runs every actor in the schema its message was sent from.

The schema is written into ``message.options`` when the message is first enqueued. Retries
re-enter ``before_enqueue`` from the worker, possibly after the connection was reset to the
public schema, so the original value is kept (``setdefault``), never overwritten.
"""

from __future__ import annotations

import logging

import dramatiq
from django.db import close_old_connections
from django_tenants.utils import get_public_schema_name, get_tenant_model

from common.tasks import SCHEMA_OPTION
from tenants.db import connection

logger = logging.getLogger(__name__)


class TenantMiddleware(dramatiq.Middleware):
    @property
    def actor_options(self) -> set[str]:
        return {SCHEMA_OPTION}

    def before_enqueue(self, broker, message, delay):
        message.options.setdefault(SCHEMA_OPTION, connection.schema_name)

    def before_process_message(self, broker, message):
        schema = message.options.get(SCHEMA_OPTION, get_public_schema_name())
        if schema == get_public_schema_name():
            connection.set_schema_to_public()
            return
        tenant = get_tenant_model().objects.filter(schema_name=schema).first()
        if tenant is None or not tenant.is_ready:
            # Never run tenant work in another schema: fail the message loudly instead.
            logger.error("Message %s skipped: tenant %r unavailable", message.message_id, schema)
            message.fail()
            raise dramatiq.middleware.SkipMessage()
        connection.set_tenant(tenant)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        connection.set_schema_to_public()

    def after_skip_message(self, broker, message):
        connection.set_schema_to_public()


class DbConnectionMiddleware(dramatiq.Middleware):
    """Close stale connections around each message, as Django does around each request."""

    def before_process_message(self, broker, message):
        close_old_connections()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        close_old_connections()

    def after_skip_message(self, broker, message):
        close_old_connections()

    def before_worker_thread_shutdown(self, broker, thread):
        connection.close()
