"""Default French wording of each letter, seeded per insurer by ``claims_provision``.

Each body is a Django template that the insurer can rewrite in Wagtail; the defaults print every
field of ``cover.letter_fields`` for their kind (required ones always, recommended ones when
known), so a letter generated from them carries what DOMAIN §4 asks for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
    loader_tags,
)
from django.utils.translation import gettext as _

from cover.letter_fields import LetterKind

# The only templates a letter body may include (its partials, read from the app's folder).
_PARTIALS_DIR = Path(__file__).resolve().parent / "templates"
LETTER_PARTIALS = ("claims/letters/_urls.html", "claims/letters/_passages.html")
# Built-in tags a letter body may not use: no library to load (Wagtail's ``get_settings``
# would hand it the insurer's settings and their secrets), no dump of the context.
_REFUSED_TAGS = frozenset({"load", "debug"})


class LetterTemplateInvalid(ValueError):
    """A letter template that cannot be rendered; the message is French, shown as is."""


@functools.cache
def letter_engine() -> Engine:
    """A template engine of its own for insurer-edited letter bodies.

    Unlike the site's engine it has no context processors (no ``settings``, ``request`` or
    ``user``), no tag library but the built-ins minus ``load`` and ``debug``, and can include
    only the letter partials. A body sees only what ``letter_body_render`` hands it.
    """
    engine = Engine(
        loaders=[
            (
                "django.template.loaders.locmem.Loader",
                {name: (_PARTIALS_DIR / name).read_text() for name in LETTER_PARTIALS},
            )
        ],
        builtins=[],
        libraries={},
        autoescape=True,
        debug=False,
    )
    tags = Library()
    tags.tags = {k: v for k, v in defaulttags.register.tags.items() if k not in _REFUSED_TAGS}
    tags.filters = dict(defaulttags.register.filters)
    engine.template_builtins = [tags, defaultfilters.register, loader_tags.register]
    return engine


def letter_body_render(*, body: str, context: Mapping[str, Any]) -> str:
    """Render an insurer's letter body in the restricted engine."""
    try:
        return letter_engine().from_string(body).render(Context(dict(context)))
    except TemplateSyntaxError as exc:
        raise LetterTemplateInvalid(
            _("Modèle de courrier invalide (à corriger dans « Modèles de courrier ») : %(error)s")
            % {"error": exc}
        ) from exc


_SENDER = """<div class="parties">
<div><strong>{{ who.name }}</strong>{% if who.mandate %}<br>Mandataire : {{ who.mandate }}{% endif %}{% if v.notifier.profession and who == v.notifier %}<br>{{ v.notifier.profession }}{% endif %}{% if who.email %}<br>{{ who.email }}{% endif %}{% if who.postal_address %}<br>{{ who.postal_address }}{% endif %}</div>
<div>Le {{ v.letter_date }}</div>
</div>"""


def _sender(prefix: str) -> str:
    return "{% with who=v." + prefix + " %}" + _SENDER + "{% endwith %}"


DEFAULT_BODIES: dict[LetterKind, str] = {
    LetterKind.DSA_NOTICE: _sender("notifier")
    + """
<p>À l'attention de : {{ v.host.legal_name|default:"l'hébergeur du service" }}{% if v.host.registered_office %}, {{ v.host.registered_office }}{% endif %}</p>
<p class="object">Objet : notification de contenu illicite — règlement (UE) 2022/2065 (DSA), article 16</p>
<p>Date de la notification : {{ v.notice_date }}</p>
<p>Madame, Monsieur,</p>
<p>Je vous notifie la présence, sur votre service, des contenus illicites suivants.</p>
<p><strong>Emplacement électronique exact :</strong></p>
{% include "claims/letters/_urls.html" with urls=v.content.urls %}
{% if v.content.author_pseudonym %}<p>Auteur (pseudonyme affiché) : {{ v.content.author_pseudonym }}</p>{% endif %}
{% if v.content.display_date %}<p>Date affichée : {{ v.content.display_date }}</p>{% endif %}
{% if v.content.review_id %}<p>Identifiant de l'avis : {{ v.content.review_id }}</p>{% endif %}
<p><strong>Passages en cause, leur qualification et les textes applicables :</strong></p>
{% include "claims/letters/_passages.html" %}
<p><strong>Explication des raisons de l'illicéité :</strong> {{ v.factual_justification }}</p>
{% if v.prior_contact_with_author %}<p>Démarche préalable auprès de l'auteur : {{ v.prior_contact_with_author }}</p>{% endif %}
{% if v.requested_action %}<p><strong>Mesure demandée :</strong> {{ v.requested_action }}</p>{% endif %}
{% if v.content.screenshots %}<p>Pièces jointes : {{ v.content.screenshots }}</p>{% endif %}
<p>{{ v.good_faith_statement }}</p>
<p class="sign">{{ v.notifier.name }}</p>""",
    LetterKind.DROIT_DE_REPONSE: _sender("requester")
    + """
<p>À l'attention de : {{ v.addressee.name }}</p>
<p class="object">Objet : demande d'insertion d'une réponse — LCEN art. 1-1-III (ex-6-IV), décret n° 2007-1527</p>
<p>Madame, Monsieur,</p>
<p>Un message diffusé sur votre service me nomme ou me désigne : je vous demande d'insérer la réponse ci-dessous.</p>
<p>Références du message : {{ v.message.references }}</p>
<p>Conditions d'accès au message : {{ v.message.access_conditions }}</p>
{% if v.message.author_name %}<p>Auteur du message : {{ v.message.author_name }}</p>{% endif %}
<p>Nature du message : {{ v.message.nature }}</p>
{% if v.message.publication_date %}<p>Date de mise à disposition du public : {{ v.message.publication_date }}</p>{% endif %}
<p><strong>Passages contestés :</strong></p>
<ol>{% for quote in v.message.disputed_passages %}<li><blockquote>« {{ quote }} »</blockquote></li>{% endfor %}</ol>
<p><strong>Réponse sollicitée :</strong></p>
<blockquote>{{ v.reply.text }}</blockquote>
<p>Je vous rappelle que la réponse doit être insérée dans les trois jours de la réception de la présente demande.</p>
<p class="sign">{{ v.requester.name }}</p>""",
    LetterKind.GDPR_OBJECTION_ERASURE: """<div class="parties"><div><strong>{{ v.doctor.name }}</strong>{% if v.doctor.rpps %}<br>RPPS : {{ v.doctor.rpps }}{% endif %}</div><div>Le {{ v.letter_date }}</div></div>
<p>À l'attention de : {{ v.controller.name }}, {{ v.controller.address_or_dpo }}</p>
<p class="object">Objet : opposition au traitement et demande d'effacement (RGPD, art. 21.1 et 17.1.c)</p>
<p>Madame, Monsieur,</p>
<p>Vous traitez des données me concernant aux adresses suivantes :</p>
{% include "claims/letters/_urls.html" with urls=v.listing.urls %}
<p>Données concernées : {{ v.data_concerned }}</p>
<p>{{ v.objection_statement }}</p>
<p>Raisons tenant à ma situation particulière : {{ v.particular_situation_grounds }}</p>
<p>{{ v.erasure_statement }}</p>
<p>{{ v.confirmation_request }}</p>
<p>{{ v.deadline_reminder }}</p>
<p>{{ v.cnil_escalation_notice }}</p>
<p class="sign">{{ v.doctor.name }}</p>""",
    LetterKind.DEREFERENCING: """<div class="parties"><div><strong>{{ v.data_subject.name }}</strong></div><div>Le {{ v.letter_date }}</div></div>
<p>À l'attention de : {{ v.operator.name }}</p>
<p class="object">Objet : demande de déréférencement (RGPD, art. 17 et 21)</p>
<p>Madame, Monsieur,</p>
<p>Je vous demande de déréférencer, pour les recherches portant sur mon nom, les résultats suivants :</p>
{% include "claims/letters/_urls.html" with urls=v.result_urls %}
<p>Motifs : {{ v.reasons }}</p>
{% if v.identity_proof %}<p>Justificatif d'identité : {{ v.identity_proof }}</p>{% endif %}
<p class="sign">{{ v.data_subject.name }}</p>""",
    LetterKind.CNIL_COMPLAINT: """<div class="parties"><div><strong>{{ v.complainant.name }}</strong></div><div>Le {{ v.letter_date }}</div></div>
<p class="object">Objet : plainte auprès de la CNIL (RGPD, art. 77)</p>
<p>Responsable de traitement mis en cause : {{ v.controller.name }}</p>
<p>Adresses concernées :</p>
{% include "claims/letters/_urls.html" with urls=v.content.urls %}
<p>Demande préalable adressée au responsable le {{ v.prior_request.date }} : {{ v.prior_request.copy }}</p>
<p>Preuve de réception : {{ v.prior_request.receipt_proof }}</p>
{% if v.controller_response %}<p>Réponse du responsable : {{ v.controller_response }}</p>{% endif %}
<p>Griefs : {{ v.grounds }}</p>
<p class="sign">{{ v.complainant.name }}</p>""",
    LetterKind.MISE_EN_DEMEURE: _sender("sender")
    + """
<p>À l'attention de : {{ v.recipient.name }}{% if v.recipient.publication_director %} — directeur de la publication : {{ v.recipient.publication_director }}{% endif %}</p>
<p class="object">Objet : {{ v.object_line }}</p>
<p>Madame, Monsieur,</p>
<p>Le {{ v.content.date }}, les propos suivants ont été mis en ligne à l'adresse :</p>
{% include "claims/letters/_urls.html" with urls=v.content.urls %}
{% include "claims/letters/_passages.html" %}
<p>En conséquence, je vous mets en demeure de : {{ v.demand }}</p>
<p>Délai imparti : {{ v.compliance_deadline_days }} jours à compter de la réception de la présente.</p>
<p>{{ v.court_action_notice }}</p>
<p>{{ v.reservation }}</p>
<p class="sign">{{ v.sender.name }}</p>""",
    LetterKind.CONSTAT_ORDER: _sender("requester")
    + """
<p>À l'attention de : {{ v.commissaire.office }}</p>
<p class="object">Objet : demande de procès-verbal de constat sur internet</p>
<p>Maître,</p>
<p>Je vous prie de bien vouloir dresser un procès-verbal de constat des pages suivantes :</p>
{% include "claims/letters/_urls.html" with urls=v.content.urls %}
<p>{{ v.norm_statement }}</p>
<p>Opérations exigées (NF Z67-147, §4.2.1 et §4.2.2) :</p>
<ul>{% for op in v.required_operations %}<li>{{ op }}</li>{% endfor %}</ul>
{% if v.recommended_operations %}<p>Opérations recommandées :</p><ul>{% for op in v.recommended_operations %}<li>{{ op }}</li>{% endfor %}</ul>{% endif %}
{% if v.navigation_path %}<p>Cheminement jusqu'aux pages : {{ v.navigation_path }}</p>{% endif %}
{% if passages %}<p>Passages à relever :</p>{% include "claims/letters/_passages.html" %}{% endif %}
{% if v.capture_reference %}<p>Capture logicielle de référence : {{ v.capture_reference }}</p>{% endif %}
{% if v.urgency %}<p>Urgence : {{ v.urgency }}</p>{% endif %}
<p class="sign">{{ v.requester.name }}</p>""",
    LetterKind.INSURER_DECLARATION: """<div class="parties"><div><strong>{{ v.insured.name }}</strong><br>Contrat n° {{ v.policy.number }}</div><div>Le {{ v.letter_date }}</div></div>
<p>À l'attention de : {{ v.insurer.name }}</p>
<p class="object">Objet : déclaration de sinistre — garantie e-réputation</p>
<p>Contenus en cause :</p>
{% include "claims/letters/_urls.html" with urls=v.content.urls %}
<p>Date de première mise en ligne : {{ v.content.publication_date }}</p>
<p>Date de découverte : {{ v.content.discovery_date }}</p>
<p>Exposé des faits : {{ v.facts }}</p>
{% if v.proposed_categories %}<p>Qualifications proposées : {{ v.proposed_categories|join:", " }}</p>{% endif %}
{% if v.requested_services %}<p>Prestations demandées : {{ v.requested_services }}</p>{% endif %}
{% if v.lawyer_choice %}<p>Libre choix de l'avocat : {{ v.lawyer_choice }}</p>{% endif %}
<p class="sign">{{ v.insured.name }}</p>""",
}
