"""Staff roles of an insurer, as data.

Each role is a Django group in the insurer's schema with explicit permissions: model permissions
(``app_label.codename``), Wagtail page permissions on the site root, and collection permissions
for images and documents. ``roles_apply`` makes a schema's groups match this table exactly, so
running it again after a change (``manage.py roles_sync``) brings every insurer up to date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

INSURER_ADMIN = "Administrateur assureur"
CLAIMS_HANDLER = "Gestionnaire sinistres"
INSURED_DOCTOR = "Médecin assuré"


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    model_permissions: tuple[str, ...] = ()
    page_permissions: tuple[str, ...] = ()
    collection_permissions: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


ROLES: tuple[Role, ...] = (
    Role(
        name=INSURER_ADMIN,
        description=str(_("Configure l'offre, le site, l'identité visuelle et l'équipe.")),
        model_permissions=(
            "wagtailadmin.access_admin",
            "auth.add_user",
            "auth.change_user",
            "auth.view_user",
            "cover.change_branding",
            "cover.change_clocksettings",
            "cover.change_insurerlegalinfo",
            "cover.change_cancellationsettings",
            # Four-eyes validation of plans, and the figures page (cover.figures).
            "cover.change_moderationsettings",
            "cover.view_figures",
            # How long bundles stay under Object Lock (evidence.settings_models).
            "evidence.change_evidencesettings",
            # The seal that signs bundles: import a qualified e-seal (evidence.seal_admin).
            "evidence.add_sealkey",
            "wagtailredirects.add_redirect",
            "wagtailredirects.change_redirect",
            "wagtailredirects.delete_redirect",
            "wagtailcore.add_workflow",
            "wagtailcore.change_workflow",
            # Offer (cover): plans go through moderation; doctors and policies are read-only,
            # add_policy allows the portfolio import.
            "cover.add_plan",
            "cover.change_plan",
            "cover.publish_plan",
            "cover.lock_plan",
            "cover.unlock_plan",
            "cover.view_doctor",
            "cover.view_policy",
            "cover.add_policy",
            # Monitoring (cleanup): the insurer's search API settings.
            "cleanup.change_searchsettings",
            # Google Business Profile: the insurer's OAuth client (cleanup.google).
            "google_reviews.change_googlebusinesssettings",
            # Google Maps places (cleanup.places): the insurer's Places API key.
            "places_reviews.change_placessettings",
            # E-mails (mailing): sender identity, digest period, e-mail wording.
            "mailing.change_mailsettings",
            "mailing.view_mailtemplate",
            "mailing.add_mailtemplate",
            "mailing.change_mailtemplate",
            "mailing.delete_mailtemplate",
            # Notification channels of the insurer (Apprise: Teams, Slack, webhooks…).
            "mailing.view_notificationchannel",
            "mailing.add_notificationchannel",
            "mailing.change_notificationchannel",
            "mailing.delete_notificationchannel",
            # Claims (cover.claims): the insurer's letter wording and partner directory.
            "claims.view_lettertemplate",
            "claims.change_lettertemplate",
            "claims.view_partner",
            "claims.add_partner",
            "claims.change_partner",
            "claims.delete_partner",
        ),
        page_permissions=(
            "add_page",
            "change_page",
            "publish_page",
            "lock_page",
            "unlock_page",
        ),
        collection_permissions=(
            "wagtailimages.add_image",
            "wagtailimages.change_image",
            "wagtailimages.choose_image",
            "wagtaildocs.add_document",
            "wagtaildocs.change_document",
            "wagtaildocs.choose_document",
        ),
    ),
    Role(
        name=CLAIMS_HANDLER,
        description=str(_("Instruit les sinistres, les preuves et les courriers.")),
        model_permissions=(
            "wagtailadmin.access_admin",
            "cover.view_doctor",
            "cover.view_policy",
            # Monitoring (cleanup): review alerts, follow removal requests, propose content.
            "cleanup.view_alert",
            "cleanup.change_alert",
            "cleanup.view_removalrequest",
            "cleanup.change_removalrequest",
            "cleanup.view_watchprofile",
            "cleanup.add_contentplanitem",
            "cleanup.change_contentplanitem",
            "cleanup.view_contentplanitem",
            # Claims (cover.claims): queue and files, letter templates, partner directory.
            "claims.handle_claim",
            "claims.view_claim",
            "claims.view_lettertemplate",
            "claims.change_lettertemplate",
            "claims.view_partner",
            "claims.add_partner",
            "claims.change_partner",
            # Evidence: see captures and their checks, download bundles, send them by link.
            "evidence.view_capture",
            "evidence.download_capture",
            "evidence.share_capture",
        ),
        collection_permissions=(
            "wagtailimages.choose_image",
            "wagtaildocs.choose_document",
        ),
    ),
    Role(
        name=INSURED_DOCTOR,
        description=str(_("Médecin assuré : accès au portail uniquement.")),
    ),
)
