"""Emails on a claim's events: the doctor's notice (or the cover refusal letter) and the
handler's assignment notice.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from common.formatting import date_short
from cover.claims.models import Claim, ClaimEvent, CoverStatus, TimelineKind
from cover.claims.selectors.letters import RefusalNotice, claim_refusal_notice
from mailing.kinds import MailKind
from mailing.services import mail_send
from tenants.db import connection
from tenants.selectors import tenant_base_url


def claim_doctor_email_send(*, claim_id: int, event_id: int) -> None:
    """E-mail the doctor about one step of their claim, with a link to its timeline.

    Steps wait for the doctor's next digest (``mailing``); a cover decision leaves at once."""
    event = ClaimEvent.objects.select_related("claim__doctor__user").filter(pk=event_id).first()
    if event is None or event.claim_id != claim_id or not event.visible_to_doctor:
        return
    claim = event.claim
    base = tenant_base_url(connection.tenant)
    link = f"{base}/portail/sinistres/{claim.pk}/"
    if event.kind == TimelineKind.COVER_REFUSED:
        if claim.cover_status != CoverStatus.REFUSED:
            return  # reversed since: the reversal's own e-mail tells the doctor
        subject, body = _cover_refusal_mail(claim=claim, link=link)
        mail_send(
            to=claim.doctor.user.email,
            kind=MailKind.COVER_DECISION,
            context={"reference": claim.reference, "sujet": subject, "detail": body},
            link_path=link,
        )
        return
    mail_send(
        to=claim.doctor.user.email,
        kind=MailKind.CLAIM_UPDATE,
        context={
            "reference": claim.reference,
            "etape": event.get_kind_display(),
            "note": event.note,
        },
        link_path=link,
    )


def _cover_refusal_mail(*, claim: Claim, link: str) -> tuple[str, str]:
    """Subject and body of the refusal e-mail: the reason, the clause, and where to contest
    (the insurer's complaint service, then the insurance mediator), never a dead end."""
    notice = claim_refusal_notice(claim=claim) or RefusalNotice((), (), None, "", "", "", "")
    missing = _("coordonnées non communiquées, demandez-les à votre gestionnaire de sinistre")
    mediator = ", ".join(
        p for p in (notice.mediator_name, notice.mediator_url, notice.mediator_address) if p
    )
    subject = _("Dossier %(reference)s : refus de garantie") % {"reference": claim.reference}
    body = _(
        "Bonjour,\n\n"
        "Votre assureur a examiné votre dossier %(reference)s : la garantie ne le couvre pas.\n\n"
        "Motif : %(reasons)s\n"
        "Clause du contrat appliquée : %(clause)s\n\n"
        "Pour contester cette décision, écrivez au service réclamations de votre assureur : "
        "%(complaint)s\n"
        "Si le désaccord persiste, vous pouvez saisir le médiateur de l'assurance : "
        "%(mediator)s\n\n"
        "Les délais de ce dossier sont clos : vous ne recevrez plus de rappel d'échéance.\n\n"
        "Votre dossier : %(link)s\n"
    ) % {
        "reference": claim.reference,
        "reasons": " ".join(notice.reasons),
        "clause": " ".join(notice.clause_lines) or "—",
        "complaint": " ".join(notice.complaint_contact.split()) or missing,
        "mediator": " ".join(mediator.split()) or missing,
        "link": link,
    }
    return subject, body


def claim_handler_email_send(*, claim_id: int, event_id: int) -> None:
    """E-mail the handler a claim was assigned to, with a link to the claim in the admin.

    Idempotent and safe to retry: it reads the assignment event and writes nothing; a claim
    assigned to someone else since is not announced."""
    event = ClaimEvent.objects.select_related("claim__assigned_to").filter(pk=event_id).first()
    if event is None or event.claim_id != claim_id or event.kind != TimelineKind.ASSIGNED:
        return
    claim = event.claim
    handler = claim.assigned_to
    if handler is None or event.ref != f"user-{handler.pk}" or not handler.email:
        return
    base = tenant_base_url(connection.tenant)
    link = f"{base}/admin/sinistres/{claim.pk}/"
    mail_send(
        to=handler.email,
        kind=MailKind.CLAIM_ASSIGNED,
        context={
            "reference": claim.reference,
            "note": event.note,
            "prochaine_echeance": (
                f"{claim.next_deadline_label} — {date_short(claim.next_deadline_date)}"
                if claim.next_deadline_date
                else "—"
            ),
        },
        link_path=link,
    )
