"""The work folders of captures that died: found and removed by the worker loop."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django_tenants.utils import get_tenant_model, tenant_context

from evidence.models import Capture
from evidence.selectors import capture_interrupted

logger = logging.getLogger(__name__)


def work_orphans_clean() -> list[Path]:
    """Remove the work folders (``<root>/<schema>/work/<id>-<attempt>``) of dead captures.

    A folder is an orphan when its capture is finished or gone, was superseded by a later
    attempt, or is running without a live heartbeat (its worker died). The folder of a running
    capture whose worker is alive is never touched. Runs in the public schema (worker loop and
    worker start); returns the folders removed.
    """
    removed: list[Path] = []
    root = Path(settings.EGIDE_EVIDENCE_ROOT)
    if not root.is_dir():
        return removed
    for schema_dir in sorted(p for p in root.iterdir() if (p / "work").is_dir()):
        insurer = get_tenant_model().objects.filter(schema_name=schema_dir.name).first()
        if insurer is None:
            continue
        with tenant_context(insurer):
            for folder in sorted((schema_dir / "work").iterdir()):
                capture_id, _sep, attempt = folder.name.partition("-")
                if not (capture_id.isdigit() and attempt.isdigit()):
                    continue
                capture = Capture.objects.filter(pk=int(capture_id)).first()
                orphan = (
                    capture is None
                    or capture.is_finished
                    or capture.attempts != int(attempt)
                    or (
                        capture.status == Capture.Status.RUNNING
                        and capture_interrupted(capture=capture)
                    )
                )
                if orphan:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
                    logger.info("Removed orphan work folder %s", folder)
    return removed
