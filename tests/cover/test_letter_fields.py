"""Required letter contents (cover.letter_fields) of DOMAIN §4, §7 and §8."""

import pytest

from cover.letter_fields import (
    CONSTAT_REQUIRED_OPERATIONS,
    DSA_GOOD_FAITH_STATEMENT,
    LETTER_SPECS,
    LetterKind,
    Requirement,
    SenderCapacity,
    letter_default_values,
    letter_droit_de_reponse_length_issues,
    letter_missing_fields,
)
from cover.rules import Addressee, Confidence

K = LetterKind

PASSAGE = {
    "quote": "le Dr X est un escroc",
    "qualification": "diffamation publique envers un particulier",
    "legal_basis": "loi du 29 juillet 1881, art. 29 al. 1 et 32 al. 1",
}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            K.DSA_NOTICE,
            [
                "notifier.name",
                "notifier.email",
                "content.urls",
                "content.passages",
                "factual_justification",
                "good_faith_statement",
            ],
        ),
        (
            K.DROIT_DE_REPONSE,
            [
                "requester.name",
                "addressee.name",
                "message.references",
                "message.access_conditions",
                "message.nature",
                "message.disputed_passages",
                "reply.text",
            ],
        ),
        (
            K.GDPR_OBJECTION_ERASURE,
            [
                "doctor.name",
                "controller.name",
                "controller.address_or_dpo",
                "listing.urls",
                "data_concerned",
                "objection_statement",
                "erasure_statement",
                "particular_situation_grounds",
                "confirmation_request",
                "deadline_reminder",
                "cnil_escalation_notice",
            ],
        ),
        (K.DEREFERENCING, ["data_subject.name", "operator.name", "result_urls", "reasons"]),
        (
            K.CNIL_COMPLAINT,
            [
                "complainant.name",
                "controller.name",
                "content.urls",
                "prior_request.copy",
                "prior_request.date",
                "prior_request.receipt_proof",
                "grounds",
            ],
        ),
        (
            K.MISE_EN_DEMEURE,
            [
                "sender.name",
                "recipient.name",
                "object_line",
                "content.urls",
                "content.date",
                "content.passages",
                "demand",
                "compliance_deadline_days",
                "court_action_notice",
                "reservation",
            ],
        ),
        (
            K.CONSTAT_ORDER,
            [
                "requester.name",
                "commissaire.office",
                "content.urls",
                "norm_statement",
                "required_operations",
            ],
        ),
        (
            K.INSURER_DECLARATION,
            [
                "insured.name",
                "policy.number",
                "insurer.name",
                "content.urls",
                "content.publication_date",
                "content.discovery_date",
                "facts",
            ],
        ),
    ],
)
def test_empty_letter_lists_every_required_field(kind, expected):
    # given no values / when checking / then every required field, in letter order
    assert letter_missing_fields(kind=kind, values={}) == expected


def test_complete_dsa_notice_has_nothing_missing():
    # given a notice built from the DSA art. 16(2) elements (flat dotted keys)
    values = {
        "notifier.name": "Dr Jeanne Martin",
        "notifier.email": "cabinet@example.org",
        "notifier.capacity": SenderCapacity.DOCTOR,
        "content.urls": ["https://avis.example.org/dr-martin#r42"],
        "content.passages": [PASSAGE],
        "factual_justification": "Imputation d'un fait précis portant atteinte à l'honneur.",
        **letter_default_values(kind=K.DSA_NOTICE),
    }
    assert letter_missing_fields(kind=K.DSA_NOTICE, values=values) == []
    # when recommended fields are asked for too / then the legacy LCEN checklist shows up
    assert letter_missing_fields(kind=K.DSA_NOTICE, values=values, include_recommended=True) == [
        "notice_date",
        "notifier.postal_address",
        "notifier.profession",
        "host.legal_name",
        "host.registered_office",
        "content.screenshots",
        "content.review_id",
        "content.author_pseudonym",
        "content.display_date",
        "prior_contact_with_author",
        "requested_action",
    ]


def test_counsel_can_promote_or_demote_a_field():
    # given counsel wants the legacy "prior contact" element and no e-mail requirement
    overrides = {
        "prior_contact_with_author": Requirement.REQUIRED,
        "notifier.email": Requirement.RECOMMENDED,
    }
    missing = letter_missing_fields(kind=K.DSA_NOTICE, values={}, requirement_overrides=overrides)
    assert missing == [
        "notifier.name",
        "content.urls",
        "content.passages",
        "factual_justification",
        "good_faith_statement",
        "prior_contact_with_author",
    ]
    with pytest.raises(ValueError) as error:
        letter_missing_fields(
            kind=K.DSA_NOTICE,
            values={},
            requirement_overrides={"notifier.phone": Requirement.REQUIRED},
        )
    assert str(error.value) == "unknown fields for DSA_NOTICE: ['notifier.phone']"


def test_nested_values_are_accepted():
    values = {
        "data_subject": {"name": "Dr Jeanne Martin"},
        "operator": {"name": "Moteur SA"},
        "result_urls": ["https://moteur.example/?q=martin"],
        "reasons": "   ",
    }
    assert letter_missing_fields(kind=K.DEREFERENCING, values=values) == ["reasons"]


@pytest.mark.parametrize(
    ("kind", "capacity_key", "mandate_key"),
    [
        (K.DSA_NOTICE, "notifier.capacity", "notifier.mandate"),
        (K.MISE_EN_DEMEURE, "sender.capacity", "sender.mandate"),
        (K.CONSTAT_ORDER, "requester.capacity", "requester.mandate"),
    ],
)
def test_mandate_required_only_when_a_mandatary_signs(kind, capacity_key, mandate_key):
    for capacity, expected in [
        (SenderCapacity.DOCTOR, False),
        (SenderCapacity.LAWYER, True),
        (SenderCapacity.INSURER, True),
    ]:
        missing = letter_missing_fields(kind=kind, values={capacity_key: capacity})
        assert (mandate_key in missing) is expected


def test_author_name_required_only_when_shown():
    shown = letter_missing_fields(kind=K.DROIT_DE_REPONSE, values={"message.author_shown": True})
    hidden = letter_missing_fields(kind=K.DROIT_DE_REPONSE, values={"message.author_shown": False})
    assert "message.author_name" in shown
    assert "message.author_name" not in hidden


def test_each_quoted_passage_needs_quote_qualification_and_article():
    # given a mise en demeure whose second passage lacks its qualification and legal basis
    values = {
        "sender.name": "Dr Jeanne Martin",
        "recipient.name": "M. Dupont",
        "content.urls": ["https://avis.example.org/r42"],
        "content.date": "2025-01-15",
        "content.passages": [PASSAGE, {"quote": "charlatan", "qualification": ""}],
        "demand": "Retrait sous 8 jours.",
        "compliance_deadline_days": 8,
        **letter_default_values(kind=K.MISE_EN_DEMEURE),
    }
    assert letter_missing_fields(kind=K.MISE_EN_DEMEURE, values=values) == [
        "content.passages[1].qualification",
        "content.passages[1].legal_basis",
    ]
    values["content.passages"] = "le Dr X est un escroc"
    assert letter_missing_fields(kind=K.MISE_EN_DEMEURE, values=values) == ["content.passages"]


def test_default_values_are_the_fixed_wordings():
    assert letter_default_values(kind=K.DSA_NOTICE) == {
        "good_faith_statement": (
            "Je déclare de bonne foi que les informations et allégations contenues dans la "
            "présente notification sont exactes et complètes."
        )
    }
    assert (
        DSA_GOOD_FAITH_STATEMENT == letter_default_values(kind=K.DSA_NOTICE)["good_faith_statement"]
    )
    assert sorted(letter_default_values(kind=K.GDPR_OBJECTION_ERASURE)) == [
        "cnil_escalation_notice",
        "deadline_reminder",
        "erasure_statement",
        "objection_statement",
    ]
    assert letter_default_values(kind=K.MISE_EN_DEMEURE)["object_line"] == "MISE EN DEMEURE"
    assert letter_default_values(kind=K.CONSTAT_ORDER)["norm_statement"] == (
        "Le constat sera établi conformément à la norme NF Z67-147 (mode opératoire des "
        "procès-verbaux de constat sur internet)."
    )


def test_dsa_notice_reconciles_dsa_and_legacy_lists():
    spec = LETTER_SPECS[K.DSA_NOTICE]
    required_with_ref = sorted(
        {f.dsa_ref for f in spec.fields if f.requirement is Requirement.REQUIRED and f.dsa_ref}
    )
    # then every element of DSA art. 16(2) (a)-(d) is required
    assert required_with_ref == ["16(2)(a)", "16(2)(b)", "16(2)(c)", "16(2)(d)"]
    # and nothing that only the repealed LCEN list asked for is required
    legacy_only = [f.name for f in spec.fields if f.legacy_lcen and not f.dsa_ref]
    assert legacy_only == [
        "notice_date",
        "notifier.postal_address",
        "notifier.profession",
        "host.legal_name",
        "host.registered_office",
        "prior_contact_with_author",
    ]
    assert all(
        f.requirement is Requirement.RECOMMENDED for f in spec.fields if f.name in legacy_only
    )
    assert [c.tag for c in spec.caveats] == [
        Confidence.STALE,
        Confidence.UNVERIFIED,
        Confidence.UNVERIFIED,
    ]
    assert spec.addressee is Addressee.HOST


def test_constat_order_lists_the_norm_operations():
    assert CONSTAT_REQUIRED_OPERATIONS == (
        "adresse IP identifiant le matériel utilisé",
        "suppression des caches avant la consultation",
        "vérification de l'absence de serveur proxy",
        "preuve des liens hypertextes menant aux pages litigieuses",
        "suppression des cookies",
        "heure de début des opérations",
    )
    assert [c.tag for c in LETTER_SPECS[K.CONSTAT_ORDER].caveats] == [
        Confidence.CONFLICT,
        Confidence.UNVERIFIED,
    ]


def test_every_letter_kind_has_a_spec():
    assert set(LETTER_SPECS) == set(LetterKind)


@pytest.mark.parametrize(
    ("reply", "message", "max_lines", "expected"),
    [
        ("Réponse courte.", "Un message plus long que la réponse.", 200, []),
        ("Une réponse bien trop longue.", "Court.", 200, ["REPLY_LONGER_THAN_MESSAGE"]),
        ("a\nb\nc", "x" * 100, 2, ["REPLY_OVER_MAX_LINES"]),
    ],
)
def test_droit_de_reponse_length(reply, message, max_lines, expected):
    assert (
        letter_droit_de_reponse_length_issues(
            reply_text=reply, message_text=message, max_lines=max_lines
        )
        == expected
    )
