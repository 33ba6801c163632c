"""Forms of the doctor portal and of the handlers' workspace (validation of shape only; the
rules are enforced by the services)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from cover.claims.models import CostKind, Partner, PartnerKind
from cover.claims.plan_terms import SERVICE_LABELS
from cover.classification import QUESTIONS, DiscriminatoryGround
from cover.ladder import ROUTES_AT_ANY_STEP, STATE_LABELS, STATE_ROUTES, LadderState
from cover.letter_fields import LETTER_SPECS, LetterKind, SenderCapacity
from cover.money import EuroField
from cover.reply_rules import ReplyTopic
from cover.rules import (
    CATEGORY_RULES,
    EVENT_LABELS,
    ROUTE_RULES,
    ClaimEventKind,
    ClaimFact,
    ContentCategory,
    Route,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class ClaimOpenForm(forms.Form):
    urls = forms.CharField(
        label=_("Adresse(s) du contenu"),
        help_text=_("Une adresse (URL) par ligne."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source_text = forms.CharField(
        label=_("Texte du contenu"),
        help_text=_("Copiez ici le texte de l'avis ou de la publication, tel qu'il s'affiche."),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
    )
    quotes = forms.CharField(
        label=_("Passages en cause"),
        help_text=_("Un passage par ligne, copié mot pour mot depuis le texte ci-dessus."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20_000,
    )
    seen_date = forms.DateField(label=_("Date à laquelle vous l'avez vu"), widget=DATE_WIDGET)
    publication_date = forms.DateField(
        label=_("Date de publication affichée sur la page"),
        help_text=_(
            "Si la page n'en affiche pas, laissez vide : la date la plus ancienne attestée "
            "(archive, capture, à défaut votre date de découverte) sera retenue comme date "
            "estimée, et votre gestionnaire pourra la corriger."
        ),
        required=False,
        widget=DATE_WIDGET,
    )
    author_name = forms.CharField(
        label=_("Auteur (nom ou pseudonyme), si connu"), max_length=200, required=False
    )
    author_is_doctor = forms.BooleanField(label=_("L'auteur est un médecin"), required=False)
    direct_reply_available = forms.BooleanField(
        label=_("Le site me permet de répondre directement sous le contenu"), required=False
    )
    description = forms.CharField(
        label=_("Ce qui s'est passé (sans information médicale ni relative à un patient)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
    )

    def clean_urls(self) -> list[str]:
        return _lines(self.cleaned_data["urls"])

    def clean_quotes(self) -> list[str]:
        return _lines(self.cleaned_data["quotes"])


_QUESTION_TEXT = {q.field: q for q in QUESTIONS}
GROUND_LABELS = {
    DiscriminatoryGround.ORIGIN: _("Origine"),
    DiscriminatoryGround.ETHNICITY: _("Ethnie"),
    DiscriminatoryGround.NATION: _("Nation"),
    DiscriminatoryGround.RACE: _("Prétendue race"),
    DiscriminatoryGround.RELIGION: _("Religion"),
    DiscriminatoryGround.SEX: _("Sexe"),
    DiscriminatoryGround.SEXUAL_ORIENTATION: _("Orientation sexuelle"),
    DiscriminatoryGround.GENDER_IDENTITY: _("Identité de genre"),
    DiscriminatoryGround.DISABILITY: _("Handicap"),
}
# DOMAIN §2.2 order: discriminatory (2), imputation (3), insult (4), services (5), private (6).
PASSAGE_QUESTION_FIELDS = (
    "discriminatory_grounds",
    "calls_to_discrimination_or_violence",
    "precise_factual_imputation",
    "outrageous_expression",
    "targets_services_not_person",
    "discloses_private_life",
    "shows_picture_or_video",
)


class QuestionnaireForm(forms.Form):
    """DOMAIN §2.2 as questions: one group per passage, plus the page-level listing question."""

    def __init__(self, *args: Any, passages: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.passages = passages
        listing = _QUESTION_TEXT["page_is_listing"]
        self.fields["page_is_listing"] = forms.BooleanField(label=str(listing.text), required=False)
        for index, _passage in enumerate(passages):
            for name in PASSAGE_QUESTION_FIELDS:
                question = _QUESTION_TEXT[name]
                key = f"p{index}_{name}"
                if name == "discriminatory_grounds":
                    self.fields[key] = forms.MultipleChoiceField(
                        label=str(question.text),
                        choices=[(g.value, GROUND_LABELS[g]) for g in DiscriminatoryGround],
                        widget=forms.CheckboxSelectMultiple,
                        required=False,
                    )
                else:
                    self.fields[key] = forms.BooleanField(
                        label=str(question.text),
                        help_text=str(question.help),
                        required=False,
                    )

    def passage_groups(self) -> list[tuple[Any, list[Any]]]:
        return [
            (p, [self[f"p{i}_{name}"] for name in PASSAGE_QUESTION_FIELDS])
            for i, p in enumerate(self.passages)
        ]

    def answers(self) -> list[dict[str, Any]]:
        return [
            {name: self.cleaned_data[f"p{i}_{name}"] for name in PASSAGE_QUESTION_FIELDS}
            for i in range(len(self.passages))
        ]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Votre projet de réponse"), widget=forms.Textarea(attrs={"rows": 6})
    )


REPLY_TOPIC_LABELS = {
    ReplyTopic.DELAYS: _("Retards"),
    ReplyTopic.APPOINTMENT_AVAILABILITY: _("Délais de rendez-vous"),
    ReplyTopic.EMERGENCIES: _("Urgences"),
    ReplyTopic.PHONE_REACHABILITY: _("Joignabilité téléphonique"),
}


class ReplyProposeForm(forms.Form):
    topics = forms.MultipleChoiceField(
        label=_("Sujets à expliquer de manière générale"),
        choices=[(t.value, REPLY_TOPIC_LABELS[t]) for t in ReplyTopic],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


# ---------------------------------------------------------------------------------------------
# Handlers' workspace
# ---------------------------------------------------------------------------------------------

CATEGORY_FORM_CHOICES = [("", "—")] + [(c.value, CATEGORY_RULES[c].label) for c in ContentCategory]
FACT_LABELS = {
    ClaimFact.DIRECT_REPLY_AVAILABLE: _("Le site permet de répondre directement"),
    ClaimFact.CRIMINAL_226_1: _("Enregistrement dans un lieu privé (C. pén. 226-1)"),
    ClaimFact.COUNSEL_EXCLUDES_PRESS_LAW: _("L'avocat écarte la loi de 1881 (dénigrement)"),
    ClaimFact.AUTHOR_IS_DOCTOR: _("L'auteur est un médecin"),
    ClaimFact.AUTHOR_ANONYMOUS: _("L'auteur est anonyme"),
    ClaimFact.PUBLISHER_ANONYMOUS_NON_PRO: _("Éditeur non professionnel anonyme"),
    ClaimFact.LITIGATION_PLAUSIBLE: _("Contentieux plausible"),
}


class QualifyForm(forms.Form):
    def __init__(self, *args: Any, passages: list[Any], facts: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.passages = passages
        for p in passages:
            self.fields[f"category_{p.pk}"] = forms.ChoiceField(
                label=_("Catégorie"),
                choices=CATEGORY_FORM_CHOICES,
                initial=p.confirmed_category or p.proposed_category,
            )
            self.fields[f"qualification_{p.pk}"] = forms.CharField(
                label=_("Qualification"), required=False, initial=p.qualification
            )
            self.fields[f"legal_basis_{p.pk}"] = forms.CharField(
                label=_("Articles"), required=False, initial=p.legal_basis
            )
        self.fields["facts"] = forms.MultipleChoiceField(
            label=_("Faits"),
            choices=[(f.value, FACT_LABELS[f]) for f in ClaimFact],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            initial=facts,
        )

    def rows(self) -> list[tuple[Any, Any, Any, Any]]:
        return [
            (
                p,
                self[f"category_{p.pk}"],
                self[f"qualification_{p.pk}"],
                self[f"legal_basis_{p.pk}"],
            )
            for p in self.passages
        ]


@functools.cache
def transition_routes(state: LadderState) -> tuple[Route, ...]:
    """The démarches that go with a step: its own, plus the constat (gathering proof is possible
    at any step after intake, ``cover.ladder.ROUTES_AT_ANY_STEP``)."""
    own = STATE_ROUTES[state]
    extra = (
        () if state is LadderState.INTAKE else tuple(r for r in Route if r in ROUTES_AT_ANY_STEP)
    )
    return own + tuple(r for r in extra if r not in own)


class RouteSelect(forms.Select):
    """Each démarche carries the steps it belongs to (``data-states``) so that the admin's
    script offers only the démarches of the chosen step; the server checks it again."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value:
            option["attrs"]["data-states"] = route_states(Route(value))
        return option


@functools.cache
def route_states(route: Route) -> str:
    """The steps a démarche belongs to, as the ``data-states`` attribute (rules are constant)."""
    return " ".join(s.value for s in LadderState if route in transition_routes(s))


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(
        label=_("Étape"), choices=[(s.value, STATE_LABELS[s]) for s in LadderState]
    )
    route = forms.ChoiceField(
        label=_("Démarche"),
        choices=[("", "—")] + [(r.value, ROUTE_RULES[r].label) for r in Route],
        required=False,
        widget=RouteSelect,
    )
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        state, route = data.get("to_state"), data.get("route")
        if state and route and Route(route) not in transition_routes(LadderState(state)):
            self.add_error(
                "route",
                _("La démarche « %(route)s » ne correspond pas à l'étape « %(state)s ».")
                % {
                    "route": ROUTE_RULES[Route(route)].label,
                    "state": STATE_LABELS[LadderState(state)],
                },
            )
        return data


class EventForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Événement"), choices=[(k.value, EVENT_LABELS[k]) for k in ClaimEventKind]
    )
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    ref = forms.CharField(label=_("Référence"), required=False, max_length=120)
    note = forms.CharField(label=_("Note"), required=False)


class LetterForm(forms.Form):
    """The handler's values for one kind of letter: every field of its spec, pre-filled with
    what the claim knows; list fields (URLs, passages) come from the claim only."""

    def __init__(self, *args: Any, kind: LetterKind, auto: dict[str, Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.list_fields: list[tuple[Any, Any]] = []
        self.fields["partner"] = forms.ModelChoiceField(
            label=_("Commissaire de justice"),
            queryset=Partner.objects.filter(active=True, kind=PartnerKind.COMMISSAIRE),
            required=False,
        )
        if kind is not LetterKind.CONSTAT_ORDER:
            del self.fields["partner"]
        seen_conditions: set[str] = set()
        for spec_field in LETTER_SPECS[kind].fields:
            if spec_field.required_when and spec_field.required_when[0] not in seen_conditions:
                condition = spec_field.required_when[0]
                seen_conditions.add(condition)
                if condition.endswith(".capacity"):
                    self.fields[condition] = forms.ChoiceField(
                        label=_("Signataire"),
                        choices=[
                            (SenderCapacity.DOCTOR.value, _("Le médecin")),
                            (SenderCapacity.INSURER.value, _("L'assureur, mandataire")),
                            (SenderCapacity.LAWYER.value, _("L'avocat, mandataire")),
                        ],
                        initial=auto.get(condition),
                        required=False,
                    )
            value = auto.get(spec_field.name)
            if isinstance(value, list | tuple | bool):
                self.list_fields.append((spec_field, value))
                continue
            required = spec_field.requirement.value == "REQUIRED"
            self.fields[spec_field.name] = letter_form_field(
                name=spec_field.name,
                label=f"{spec_field.label}{' *' if required else ''}",
                help_text=str(spec_field.note),
                value=value,
            )

    def rows(self) -> list[tuple[Any, bool]]:
        """Each field with whether its label or hint names a partner (link to the directory)."""
        return [(field, mentions_partner(f"{field.label} {field.help_text}")) for field in self]

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "partner" or value in (None, ""):
                continue
            # Letters show dates the French way, as the claim's own values are given.
            values[name] = value.strftime("%d/%m/%Y") if isinstance(value, datetime.date) else value
        return values


def letter_field_kind(name: str) -> str:
    """The input a letter field needs, from its dotted name (``cover.letter_fields``): a date,
    a number of days, an e-mail address, a one-line text or a longer text."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "date" or leaf.endswith("_date"):
        return "date"
    if leaf.endswith("_days"):
        return "days"
    if leaf == "email":
        return "email"
    if leaf in SHORT_LETTER_FIELDS or leaf.endswith(("_name", "_reference", "_pseudonym")):
        return "line"
    return "text"


SHORT_LETTER_FIELDS = frozenset(
    {
        "name",
        "rpps",
        "number",
        "office",
        "review_id",
        "object_line",
        "profession",
        "legal_name",
        "publication_director",
    }
)


def _date_fr(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    day, _sep, rest = str(value).partition("/")
    month, _sep, year = rest.partition("/")
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        return None


def letter_form_field(*, name: str, label: str, help_text: str, value: Any) -> forms.Field:
    kind = letter_field_kind(name)
    text = "" if value is None else str(value)
    if kind == "date" and (value in (None, "") or _date_fr(value) is not None):
        return forms.DateField(
            label=label,
            required=False,
            initial=_date_fr(value),
            help_text=help_text,
            widget=DATE_WIDGET,
        )
    if kind == "days" and (value in (None, "") or text.isdigit()):
        return forms.IntegerField(
            label=label,
            required=False,
            min_value=1,
            max_value=365,
            initial=int(text) if text else None,
            help_text=help_text,
            widget=forms.NumberInput(attrs={"min": 1, "max": 365, "step": 1}),
        )
    if kind == "email":
        return forms.EmailField(label=label, required=False, initial=text, help_text=help_text)
    if kind == "line" and "\n" not in text:
        return forms.CharField(
            label=label,
            required=False,
            initial=text,
            help_text=help_text,
            widget=forms.TextInput(attrs={"size": 60}),
        )
    return forms.CharField(
        label=label,
        required=False,
        initial=text,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


PARTNER_WORDS = ("commissaire de justice", "commissaires de justice", "avocat", "huissier")


def mentions_partner(text: str) -> bool:
    """A hint that names a partner kind links to the insurer's partner directory."""
    lowered = text.lower()
    return any(word in lowered for word in PARTNER_WORDS)


class LetterSentForm(forms.Form):
    sent_on = forms.DateField(label=_("Date d'envoi"), widget=DATE_WIDGET)
    proof = forms.FileField(label=_("Accusé de réception"), required=False)
    capture_ref = forms.CharField(
        label=_("ou référence de la capture de l'accusé de la plateforme"),
        required=False,
        max_length=200,
    )


class CostForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nature"), choices=CostKind.choices)
    service = forms.ChoiceField(
        label=_("Service"),
        choices=[("", _("Selon la nature")), *((k, _(v)) for k, v in SERVICE_LABELS.items())],
        required=False,
        help_text=_("Le sous-plafond de ce service s'applique."),
    )
    label = forms.CharField(label=_("Libellé"), max_length=200)
    # Typed in euros (« 1 500,00 »), cleaned to cents.
    amount = EuroField(label=_("Montant"))
    incurred_on = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    partner = forms.ModelChoiceField(
        label=_("Partenaire"), queryset=Partner.objects.filter(active=True), required=False
    )


class PublicationDateForm(forms.Form):
    new_date = forms.DateField(label=_("Date de publication"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Motif de la correction (obligatoire)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RepublicationForm(forms.Form):
    date = forms.DateField(label=_("Date de la republication"), widget=DATE_WIDGET)
    url = forms.CharField(label=_("Adresse republiée"), required=False, max_length=2000)
    note = forms.CharField(
        label=_("Ce qui a été republié"),
        required=False,
        max_length=2000,
        help_text=_(
            "Nouvelle mise en ligne, nouveau lien vers le contenu… Un simple changement "
            "d'adresse du site, sans modification du contenu, n'est pas une republication."
        ),
    )


class LetterReceiptForm(forms.Form):
    received_on = forms.DateField(label=_("Reçu le"), widget=DATE_WIDGET)


class LetterFollowUpForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Suite"), choices=[(k.value, EVENT_LABELS[k]) for k in ClaimEventKind]
    )
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class AssignForm(forms.Form):
    """Give the claim to one of the insurer's claims handlers.

    Display only: the ``assign`` view checks the posted id with ``selectors.claim_handler``.
    Plain choices read once (a model choice field queries again for ``required``)."""

    handler = forms.ChoiceField(label=_("Attribuer à"), choices=())

    def __init__(self, *args: Any, handlers: Iterable[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["handler"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(user.pk, user.get_full_name() or user.email) for user in handlers]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note interne"),
        help_text=_("Visible uniquement par l'équipe de l'assureur, jamais par le médecin."),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Pièce jointe"),
        help_text=_(
            "PDF, JPEG, PNG, DOCX, ODT, TXT ou EML, 10 Mo au plus. Jamais visible par le médecin."
        ),
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=300)
