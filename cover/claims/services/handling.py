"""A handler's work on a claim: assignment, notes and attachments."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.tasks import task_enqueue_on_commit
from cover.claims.models import Claim, ClaimAttachment, ClaimNote, TimelineKind
from cover.claims.selectors.claims import claim_handlers
from cover.claims.services.common import ClaimActionRefused, _timeline_add
from cover.claims.tasks import claim_handler_notify_task


@transaction.atomic
def claim_assign(*, claim: Claim, handler: User | None, by: User) -> Claim:
    """Give the claim to one of the insurer's handlers: audited on the claim's (staff-only)
    timeline; a colleague who is given the claim is told by e-mail, after commit."""
    if handler is None or not claim_handlers().filter(pk=handler.pk).exists():
        raise ClaimActionRefused([_("Choisissez un gestionnaire sinistres de l'assureur.")])
    if claim.assigned_to_id == handler.pk:
        return claim
    previous = claim.assigned_to
    claim.assigned_to = handler
    claim.save(update_fields=["assigned_to", "updated_at"])
    note = _("Attribué à %(to)s par %(by)s.") % {
        "to": _user_label(handler),
        "by": _user_label(by),
    }
    if previous is not None:
        note += " " + _("Auparavant : %(from)s.") % {"from": _user_label(previous)}
    event = _timeline_add(
        claim=claim,
        kind=TimelineKind.ASSIGNED,
        by=by,
        date=timezone.localdate(),
        note=note,
        ref=f"user-{handler.pk}",
        visible_to_doctor=False,
    )
    if handler.pk != getattr(by, "pk", None):
        task_enqueue_on_commit(
            actor=claim_handler_notify_task, kwargs={"claim_id": claim.pk, "event_id": event.pk}
        )
    return claim


def _user_label(user: User | None) -> str:
    return (user.get_full_name() or user.email) if user is not None else "—"


def claim_note_add(*, claim: Claim, text: str, by: User) -> ClaimNote:
    """An internal note: staff only, never on the doctor's timeline nor in an e-mail."""
    text = text.strip()
    if not text:
        raise ClaimActionRefused([_("La note est vide.")])
    note = ClaimNote(claim=claim, text=text, author=by)
    note.full_clean()
    note.save()
    return note


ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Extension → accepted content types, with the first bytes the file must start with (None: no
# signature to check, e.g. plain text). What the browser claims is not trusted.
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    "txt": ("text/plain", None),
    "eml": ("message/rfc822", None),
}
ATTACHMENT_FORMATS = "PDF, JPEG, PNG, DOCX, ODT, TXT, EML"


def _size_fr(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + "\u202fMo"


def claim_attachment_problems(*, upload: UploadedFile) -> list[str]:
    """Why an uploaded file is refused (French, shown as is), or nothing."""
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    problems = []
    if upload.size is None or upload.size == 0:
        problems.append(_("Le fichier est vide."))
    elif upload.size > ATTACHMENT_MAX_BYTES:
        problems.append(
            _("Fichier trop volumineux : %(size)s (maximum %(max)s).")
            % {"size": _size_fr(upload.size), "max": _size_fr(ATTACHMENT_MAX_BYTES)}
        )
    if extension not in ATTACHMENT_TYPES:
        problems.append(
            _("Type de fichier non accepté (%(name)s). Formats acceptés : %(formats)s.")
            % {"name": name[-80:] or "—", "formats": ATTACHMENT_FORMATS}
        )
    elif not problems:
        signatures = ATTACHMENT_TYPES[extension][1]
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        if signatures is not None and not head.startswith(signatures):
            problems.append(
                _("Le contenu du fichier ne correspond pas à son extension (.%(ext)s).")
                % {"ext": extension}
            )
    return problems


@transaction.atomic
def claim_attachment_add(
    *, claim: Claim, upload: UploadedFile, description: str, by: User
) -> ClaimAttachment:
    """A file on the claim, staff only: stored privately, served by a view that checks the
    permission (``Content-Disposition: attachment``)."""
    problems = claim_attachment_problems(upload=upload)
    if problems:
        raise ClaimActionRefused(problems)
    extension = (upload.name or "").rsplit(".", 1)[-1].lower()
    attachment = ClaimAttachment(
        claim=claim,
        original_name=(upload.name or "")[-200:],
        content_type=ATTACHMENT_TYPES[extension][0],
        size=upload.size or 0,
        description=description.strip()[:300],
        uploaded_by=by,
    )
    attachment.file.save(upload.name or f"piece.{extension}", upload, save=False)
    attachment.save()
    return attachment
