"""Reply assistant (cover.reply_rules): hard blocks, warnings and the proposal of DOMAIN §5."""

import pytest

from cover.reply_rules import (
    ReplyIssueCode,
    ReplyOption,
    ReplySeverity,
    ReplyTopic,
    reply_blocking_issues,
    reply_check,
    reply_options,
    reply_propose,
)
from cover.rules import Confidence, ContentCategory

I = ReplyIssueCode  # noqa: E741 - short alias for the expectation tables

DOMAIN_EXAMPLE = (
    "Bonjour, nous vous remercions d'avoir pris le temps de partager votre ressenti. Dans le "
    "respect du secret médical, nous ne pouvons évoquer publiquement aucune situation "
    "individuelle. De manière générale, le cabinet s'efforce de respecter les horaires ; des "
    "urgences peuvent toutefois occasionner des retards, ce que nous regrettons. Si vous le "
    "souhaitez, nous vous invitons à contacter directement le cabinet afin d'échanger en toute "
    "confidentialité. — Cabinet du Dr X"
)


def found(text: str, **kwargs) -> list[tuple[ReplyIssueCode, str]]:
    return [(issue.code, issue.match) for issue in reply_check(text=text, **kwargs)]


def test_domain_example_passes_without_any_issue():
    assert reply_check(text=DOMAIN_EXAMPLE) == []


def test_proposal_reproduces_the_domain_example():
    # given the delays topic and the DOMAIN signature / when proposing / then word for word
    assert reply_propose(signature="Cabinet du Dr X", topics=[ReplyTopic.DELAYS]) == DOMAIN_EXAMPLE


def test_proposal_structure_with_several_topics():
    # given two topics / when proposing
    text = reply_propose(
        signature="  Dr Y  ",
        topics=[ReplyTopic.APPOINTMENT_AVAILABILITY, ReplyTopic.PHONE_REACHABILITY],
    )
    # then thank → secrecy → general explanation → private contact → signature
    assert text == (
        "Bonjour, nous vous remercions d'avoir pris le temps de partager votre ressenti. "
        "Dans le respect du secret médical, nous ne pouvons évoquer publiquement aucune "
        "situation individuelle. De manière générale, les délais d'attente dépendent des "
        "disponibilités du cabinet, qui s'efforce de proposer des créneaux au plus tôt. Par "
        "ailleurs, le secrétariat s'efforce de répondre à tous les appels ; aux heures de forte "
        "affluence, l'attente peut être plus longue. Si vous le souhaitez, nous vous invitons à "
        "contacter directement le cabinet afin d'échanger en toute confidentialité. — Dr Y"
    )
    assert reply_check(text=text) == []


@pytest.mark.parametrize("topic", list(ReplyTopic))
def test_every_topic_proposal_is_clean(topic):
    assert reply_check(text=reply_propose(signature="Cabinet médical", topics=[topic])) == []


def test_proposal_without_topic_skips_the_explanation():
    assert reply_propose(signature="Cabinet du Dr X") == (
        "Bonjour, nous vous remercions d'avoir pris le temps de partager votre ressenti. "
        "Dans le respect du secret médical, nous ne pouvons évoquer publiquement aucune "
        "situation individuelle. Si vous le souhaitez, nous vous invitons à contacter "
        "directement le cabinet afin d'échanger en toute confidentialité. — Cabinet du Dr X"
    )


def test_proposal_refuses_a_promotional_signature():
    with pytest.raises(ValueError) as error:
        reply_propose(signature="Le meilleur cabinet de Lyon")
    assert str(error.value) == "proposal hits hard blocks: ['PROMOTION']"
    with pytest.raises(ValueError) as error:
        reply_propose(signature=" ")
    assert str(error.value) == "signature is required"


# --- hard blocks ---------------------------------------------------------------------------


def test_reviewer_name_words_and_initials_are_blocked():
    text = "Bonjour Jean Dupont. Merci J.D. et merci jd, Marie75."
    assert found(text, reviewer_identifiers=["Jean Dupont", "Marie75"]) == [
        (I.PATIENT_IDENTIFIER, "Jean"),
        (I.PATIENT_IDENTIFIER, "Jean Dupont"),
        (I.PATIENT_IDENTIFIER, "Dupont"),
        (I.PATIENT_IDENTIFIER, "J.D."),
        (I.PATIENT_IDENTIFIER, "jd"),
        (I.PATIENT_IDENTIFIER, "Marie75"),
    ]


def test_identifier_matching_ignores_case_and_accents():
    issues = reply_check(text="Merci HÉLÈNE pour votre avis.", reviewer_identifiers=["helene"])
    assert [(i.code, i.match, i.start, i.end) for i in issues] == [
        (I.PATIENT_IDENTIFIER, "HÉLÈNE", 6, 12)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nous étions là le 12/03/2025.", [(I.VISIT_DATE_OR_TIME, "12/03/2025")]),
        ("Le 1er mars, le cabinet était ouvert.", [(I.VISIT_DATE_OR_TIME, "1er mars")]),
        ("En mars 2025 le cabinet était ouvert.", [(I.VISIT_DATE_OR_TIME, "mars 2025")]),
        ("Mardi dernier le cabinet était ouvert.", [(I.VISIT_DATE_OR_TIME, "Mardi dernier")]),
        ("Hier, le cabinet était ouvert.", [(I.VISIT_DATE_OR_TIME, "Hier")]),
        # "arrivé" also confirms a visit (word lists missed it; the pipeline reads the tense)
        (
            "Vous êtes arrivé à 14h30.",
            [(I.PATIENT_STATUS, "arrivé"), (I.VISIT_DATE_OR_TIME, "14h30")],
        ),
        ("Le cabinet ouvre à 8 h.", [(I.TIME_MENTION, "8 h")]),
    ],
)
def test_dates_and_times(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Concernant votre consultation, nous regrettons.",
            [(I.VISIT_REFERENCE, "votre consultation")],
        ),
        ("Votre rendez-vous a été décalé.", [(I.VISIT_REFERENCE, "Votre rendez-vous")]),
        ("Votre dossier est complet.", [(I.VISIT_REFERENCE, "Votre dossier")]),
        # thanking for a visit confirms it (DOMAIN §5.3 step 1)
        (
            "Merci pour votre visite.",
            [(I.PATIENT_STATUS, "Merci pour votre visite"), (I.VISIT_REFERENCE, "votre visite")],
        ),
        (
            "Votre traitement était adapté.",
            [(I.VISIT_REFERENCE, "Votre traitement")],
        ),
    ],
)
def test_references_to_the_visit(text, expected):
    assert found(text) == expected


def test_medical_detail_linked_to_the_reader_blocks_and_alone_warns():
    linked = reply_check(text="Votre douleur et vos antibiotiques étaient normaux.")
    assert [(i.code, i.match, i.severity) for i in linked] == [
        (I.MEDICAL_DETAIL, "douleur", ReplySeverity.BLOCK),
        (I.MEDICAL_DETAIL, "antibiotiques", ReplySeverity.BLOCK),
    ]
    general = reply_check(text="Le cabinet ne pratique pas d'échographie.")
    assert [(i.code, i.match, i.severity) for i in general] == [
        (I.MEDICAL_TERM, "échographie", ReplySeverity.WARN)
    ]


def test_extra_medical_terms_are_checked():
    assert found("Vous parlez de rhinoplastie.", extra_medical_terms=["rhinoplastie"]) == [
        (I.MEDICAL_DETAIL, "rhinoplastie")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Je me souviens de cet échange.", [(I.RECOLLECTION, "Je me souviens")]),
        (
            "Comme je vous l’ai dit, le cabinet est fermé.",
            [(I.RECOLLECTION, "Comme je vous l’ai dit")],
        ),
        (
            "Lors de votre passage, tout allait bien.",
            [(I.RECOLLECTION, "Lors de votre passage"), (I.VISIT_REFERENCE, "votre passage")],
        ),
    ],
)
def test_recollections(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Vous n'êtes pas une patiente du cabinet.",
            [(I.PATIENT_STATUS, "Vous n'êtes pas une patiente")],
        ),
        ("Je ne vous connais pas.", [(I.PATIENT_STATUS, "Je ne vous connais pas")]),
        (
            "Vous n'êtes jamais venu.",
            [(I.PATIENT_STATUS, "Vous n'êtes jamais"), (I.PATIENT_STATUS, "venu")],
        ),
        (
            "Nous vous avons reçue avec attention.",
            [(I.PATIENT_STATUS, "Nous vous avons reçue")],
        ),
        ("Aucun patient à ce nom.", [(I.PATIENT_STATUS, "Aucun patient")]),
        ("Ma patiente le sait.", [(I.PATIENT_STATUS, "Ma patiente")]),
    ],
)
def test_confirming_or_denying_patient_status(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Nous allons porter plainte pour diffamation.",
            [(I.ACCUSATION_OR_THREAT, "porter plainte"), (I.ACCUSATION_OR_THREAT, "diffamation")],
        ),
        ("Notre avocat est saisi.", [(I.ACCUSATION_OR_THREAT, "avocat")]),
        ("Ce sont des mensonges.", [(I.ACCUSATION_OR_THREAT, "mensonges")]),
        ("Un faux avis, évidemment.", [(I.ACCUSATION_OR_THREAT, "faux avis")]),
        ("Comme par hasard, un dimanche.", [(I.SARCASM, "Comme par hasard")]),
        ("Quelle patience !!", [(I.SARCASM, "!!")]),
    ],
)
def test_accusations_threats_and_sarcasm(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le meilleur cabinet de la ville.", [(I.PROMOTION, "Le meilleur")]),
        ("Aucune plainte en dix ans.", [(I.PROMOTION, "Aucune plainte")]),
        ("Un taux de réussite élevé.", [(I.PROMOTION, "taux de réussite")]),
        ("98 % de réussite.", [(I.PROMOTION, "98 %")]),
        ("Voyez nos photos avant/après.", [(I.PROMOTION, "avant/après")]),
        ("Nous sommes mieux que les autres.", [(I.PROMOTION, "mieux que")]),
        ("Nos patients satisfaits le disent.", [(I.PROMOTION, "patients satisfaits")]),
        ("Nous répondons dans les meilleurs délais.", []),
    ],
)
def test_promotional_and_comparative_claims(text, expected):
    assert found(text) == expected


# --- warnings ------------------------------------------------------------------------------


def test_soft_warnings_do_not_block():
    text = "Ce jour-là, j'ai dû partir tôt 🙂 " + "x" * 600
    issues = reply_check(text=text)
    assert [(i.code, i.severity) for i in issues] == [
        (I.SPECIFIC_EVENT, ReplySeverity.WARN),
        (I.SPECIFIC_EVENT, ReplySeverity.WARN),
        (I.EMOJI, ReplySeverity.WARN),
        (I.TOO_LONG, ReplySeverity.WARN),
    ]
    assert [i.match for i in issues[:3]] == ["Ce jour-là", "j'ai dû", "🙂"]
    assert (issues[3].start, issues[3].end) == (600, 633)
    assert reply_blocking_issues(issues=issues) == []


def test_exactly_600_characters_is_not_too_long():
    assert reply_check(text="a" * 600) == []


def test_issue_carries_message_and_offsets():
    (issue,) = reply_check(text="Bonjour, je me souviens.")
    assert issue.code is I.RECOLLECTION
    assert issue.severity is ReplySeverity.BLOCK
    assert (issue.start, issue.end, issue.match) == (9, 23, "je me souviens")
    assert issue.message == (
        "Pas de souvenir de la rencontre (« je me souviens », « comme je vous l'ai dit », "
        "« lors de votre passage »)."
    )


# --- whether to reply ----------------------------------------------------------------------


def test_no_reply_is_always_offered_and_default_for_illicit_content():
    illicit = reply_options(categories=[ContentCategory.LAWFUL_NEGATIVE, ContentCategory.INJURE])
    assert illicit.options == (ReplyOption.NO_REPLY, ReplyOption.REPLY)
    assert illicit.default is ReplyOption.NO_REPLY
    assert [c.tag for c in illicit.caveats] == [Confidence.SEC]


def test_lawful_review_default_is_configurable_and_flagged_as_conflict():
    lawful = reply_options(
        categories=[ContentCategory.LAWFUL_NEGATIVE], lawful_default=ReplyOption.REPLY
    )
    assert lawful.default is ReplyOption.REPLY
    assert [c.tag for c in lawful.caveats] == [Confidence.CONFLICT]
    assert reply_options(categories=[ContentCategory.LAWFUL_NEGATIVE]).default is (
        ReplyOption.NO_REPLY
    )
