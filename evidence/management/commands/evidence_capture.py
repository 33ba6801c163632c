"""``manage.py evidence_capture --schema <schema> <url>``: capture now, print the bundle path.

Synchronous (no worker, no web server): the same pipeline as the workers, with its own browser.
Needs the TSA of EGIDE_TSA_URL to answer (in development, the Procfile's "tsa" line).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_tenant_model, tenant_context

from evidence.models import Capture
from evidence.services.execution import CaptureAttemptFailed, capture_execute, capture_fail
from evidence.services.requests import capture_request
from evidence.storage import WriteOnceTenantStorage


class Command(BaseCommand):
    help = "Capture une page en preuve (lot horodaté et scellé) et affiche le chemin du lot."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True, help="schéma de l'assureur")
        parser.add_argument("--reason", default="", help="motif de la capture")
        parser.add_argument("url")

    def handle(self, *args, schema: str, url: str, reason: str, **options):
        insurer = get_tenant_model().objects.filter(schema_name=schema).first()
        if insurer is None or schema == "public":
            raise CommandError(f"Assureur inconnu pour le schéma « {schema} ».")
        with tenant_context(insurer):
            try:
                capture_id = capture_request(
                    url=url, requested_by=None, reason=reason, enqueue=False
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            try:
                capture = capture_execute(capture_id=capture_id)
            except CaptureAttemptFailed as exc:
                capture = capture_fail(capture_id=capture_id, reason=str(exc))
            if capture.status != Capture.Status.COMPLETE:
                raise CommandError(f"Capture n° {capture.pk} en échec : {capture.error}")
            if capture.http_status is None or capture.http_status >= 400 or capture.page_error:
                self.stderr.write(
                    f"Page capturée telle quelle : statut HTTP {capture.http_status}"
                    + (f", erreur : {capture.page_error}" if capture.page_error else "")
                )
            # A file path, or s3://bucket/key with the S3 backend.
            self.stdout.write(WriteOnceTenantStorage().locator(capture.bundle.name or ""))
