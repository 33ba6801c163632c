"""Escalation ladder (cover.ladder): transitions and guards of DOMAIN §3.2."""

from datetime import date

import pytest

from cover.deadlines import ClaimEvent
from cover.ladder import (
    LADDER_GUARDS,
    STATE_ROUTES,
    TRANSITIONS,
    GuardSeverity,
    LadderState,
    TransitionCheck,
    ladder_check_transition,
)
from cover.rules import ROUTE_RULES, ClaimEventKind, ClaimFact, ContentCategory, Route

E = ClaimEventKind
C = ContentCategory
S = LadderState
T_PUB = date(2025, 1, 15)  # PRESS_3M hard deadline: 14 Apr 2025; lawyer milestone: 16 Mar 2025

READY = (
    ClaimEvent(E.CAPTURE_DONE, date(2025, 1, 20)),
    ClaimEvent(E.INSURER_NOTIFIED, date(2025, 1, 20)),
    ClaimEvent(E.CONSTAT_DONE, date(2025, 1, 25)),
)
LAWYER = ClaimEvent(E.LAWYER_ENGAGED, date(2025, 1, 26))
ALLOWED = TransitionCheck(allowed=True, blocked=(), warnings=())


def check(**kwargs) -> TransitionCheck:
    params = {
        "from_state": S.EVIDENCE,
        "to_state": S.PLATFORM,
        "publication_date": T_PUB,
        "categories": [C.INJURE],
        "today": date(2025, 2, 1),
        "events": READY,
    }
    params.update(kwargs)
    return ladder_check_transition(**params)


def blocked_ids(result: TransitionCheck) -> list[str]:
    return [failure.guard_id for failure in result.blocked]


# --- machine data --------------------------------------------------------------------------


def test_every_route_belongs_to_at_most_one_state_and_states_close():
    # given the state data / then routes are not shared and every non-final state can close
    seen = [route for routes in STATE_ROUTES.values() for route in routes]
    assert len(seen) == len(set(seen))
    assert all(S.CLOSED in targets for state, targets in TRANSITIONS.items() if state != S.CLOSED)
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert [g.id for g in LADDER_GUARDS if g.severity is GuardSeverity.WARN] == [
        "INSURER_NOTIFIED",
        "PRESS_LIMIT_PASSED",
    ]


def test_removal_capable_routes():
    assert sorted(r.value for r, rule in ROUTE_RULES.items() if rule.may_cause_removal) == [
        "CNIL_COMPLAINT",
        "CONCILIATION_ORDINALE",
        "CONTACT_AUTHOR",
        "DSA_NOTICE",
        "GDPR_OBJECTION_ERASURE",
        "MISE_EN_DEMEURE",
        "PAF_LCEN_6_3",
        "PLATFORM_REPORT_TOS",
        "REFERE_835",
        "REFERE_ART9",
    ]


# --- transitions ---------------------------------------------------------------------------


def test_dsa_notice_after_capture_and_constat_is_allowed():
    assert check(route=Route.DSA_NOTICE) == ALLOWED


@pytest.mark.parametrize(
    ("from_state", "to_state", "route"),
    [
        (S.INTAKE, S.PLATFORM, Route.DSA_NOTICE),
        (S.MISE_EN_DEMEURE, S.PLATFORM, Route.DSA_NOTICE),
        (S.PLATFORM, S.PLATFORM, None),
        (S.CLOSED, S.LITIGATION, None),
    ],
)
def test_moves_outside_the_ladder_are_blocked(from_state, to_state, route):
    result = check(from_state=from_state, to_state=to_state, route=route, events=(*READY, LAWYER))
    assert "TRANSITION_EXISTS" in blocked_ids(result)
    assert result.allowed is False


def test_transition_message_names_both_steps():
    result = check(from_state=S.MISE_EN_DEMEURE, to_state=S.PLATFORM, route=Route.DSA_NOTICE)
    assert result.blocked[0].message == (
        "Le passage de « 4 — Mise en demeure » à « 3 — Plateforme » n'est pas prévu par l'échelle."
    )


def test_taking_another_route_in_the_same_state_is_allowed():
    # given a DSA notice already sent / when also sending a ToS report from PLATFORM
    assert check(from_state=S.PLATFORM, route=Route.PLATFORM_REPORT_TOS) == ALLOWED


def test_route_must_belong_to_the_target_state():
    result = check(route=Route.MISE_EN_DEMEURE)
    assert blocked_ids(result) == ["ROUTE_IN_STATE"]
    assert result.blocked[0].message == (
        "La démarche « Mise en demeure » n'appartient pas à l'étape « 3 — Plateforme »."
    )


def test_leaving_intake_needs_a_classification_and_warns_about_the_insurer():
    # given nothing classified and no insurer declaration
    result = check(from_state=S.INTAKE, to_state=S.EVIDENCE, categories=[], events=())
    # then blocked with one reason, and a warning
    assert blocked_ids(result) == ["CLASSIFIED"]
    assert [w.guard_id for w in result.warnings] == ["INSURER_NOTIFIED"]
    # when classified and declared / then allowed
    declared = (ClaimEvent(E.INSURER_NOTIFIED, date(2025, 1, 20)),)
    assert check(from_state=S.INTAKE, to_state=S.EVIDENCE, events=declared) == ALLOWED


def test_leaving_evidence_needs_the_software_capture():
    events = (ClaimEvent(E.CONSTAT_DONE, date(2025, 1, 25)),)
    result = check(route=Route.DSA_NOTICE, events=events)
    assert blocked_ids(result) == ["CAPTURE_DONE"]


# --- constat before removal ----------------------------------------------------------------


NO_CONSTAT = (
    ClaimEvent(E.CAPTURE_DONE, date(2025, 1, 20)),
    ClaimEvent(E.INSURER_NOTIFIED, date(2025, 1, 20)),
    ClaimEvent(E.CONSTAT_ORDERED, date(2025, 1, 21)),
)


@pytest.mark.parametrize(
    ("to_state", "route"),
    [
        (S.PLATFORM, Route.DSA_NOTICE),
        (S.PLATFORM, Route.PLATFORM_REPORT_TOS),
        (S.PLATFORM, None),
        (S.MISE_EN_DEMEURE, Route.MISE_EN_DEMEURE),
    ],
)
def test_no_removal_notice_before_the_constat_when_litigation_is_plausible(to_state, route):
    # given an insult, a constat ordered but not yet carried out
    result = check(to_state=to_state, route=route, events=NO_CONSTAT)
    # then any step that could remove the content is blocked
    assert blocked_ids(result) == ["CONSTAT_BEFORE_REMOVAL"]
    assert result.blocked[0].message == (
        "Un contentieux est plausible : faites établir le constat par un commissaire de justice "
        "avant toute démarche pouvant entraîner le retrait du contenu (risque de perdre la "
        "preuve)."
    )


def test_non_removal_route_does_not_need_the_constat():
    assert check(route=Route.DROIT_DE_REPONSE, events=NO_CONSTAT) == ALLOWED


@pytest.mark.parametrize(
    ("categories", "facts", "expected"),
    [
        ([C.PERSONAL_DATA_LISTING], (), []),
        ([C.LAWFUL_NEGATIVE], (), []),
        ([C.LAWFUL_NEGATIVE], (ClaimFact.LITIGATION_PLAUSIBLE,), ["CONSTAT_BEFORE_REMOVAL"]),
        ([C.PRIVACY], (), ["CONSTAT_BEFORE_REMOVAL"]),
        ([C.IMAGE_RIGHTS], (), ["CONSTAT_BEFORE_REMOVAL"]),
        ([C.DISCRIMINATORY_SPEECH], (), ["CONSTAT_BEFORE_REMOVAL"]),
    ],
)
def test_constat_guard_follows_the_litigation_plausible_categories(categories, facts, expected):
    result = check(
        route=Route.PLATFORM_REPORT_TOS, categories=categories, facts=facts, events=NO_CONSTAT
    )
    assert blocked_ids(result) == expected


# --- waiting windows never run past the press deadline -------------------------------------


def test_gdpr_wait_running_past_the_press_deadline_is_blocked():
    # given an insult on a listing; GDPR request on 10 Mar: up to 1 + 2 months → 10 Jun
    result = check(
        route=Route.GDPR_OBJECTION_ERASURE,
        categories=[C.INJURE, C.PERSONAL_DATA_LISTING],
        today=date(2025, 3, 10),
    )
    # then the ladder refuses to wait past the 14 Apr hard deadline
    assert blocked_ids(result) == ["WAIT_WITHIN_PRESS_DEADLINE"]
    assert result.blocked[0].message == (
        "L'attente liée à « Opposition et effacement RGPD » peut durer jusqu'au 10/06/2025, "
        "après l'échéance de prescription du 14/04/2025 : les démarches amiables "
        "n'interrompent pas la prescription, engagez l'action avant cette date."
    )
    assert result.blocked[0].basis == "Loi du 29 juillet 1881, art. 65 ; DOMAIN §3.2 étape 3"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 3, 14), []),  # 1 month → 14 Apr: ends on the deadline
        (date(2025, 3, 15), ["WAIT_WITHIN_PRESS_DEADLINE"]),  # → 15 Apr
    ],
)
def test_gdpr_one_month_without_extension_boundary(today, expected):
    # given an insurer configuration that ignores the +2 months extension
    overrides = {"GDPR_RESPONSE_1M": {"extension": None}}
    result = check(
        route=Route.GDPR_OBJECTION_ERASURE,
        categories=[C.INJURE, C.PERSONAL_DATA_LISTING],
        today=today,
        overrides=overrides,
    )
    assert blocked_ids(result) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 3, 30), []),  # D+15 → 14 Apr
        (date(2025, 3, 31), ["WAIT_WITHIN_PRESS_DEADLINE"]),  # D+15 → 15 Apr
    ],
)
def test_dsa_internal_escalation_window_boundary(today, expected):
    result = check(route=Route.DSA_NOTICE, today=today, events=(*READY, LAWYER))
    assert blocked_ids(result) == expected


def test_droit_de_reponse_through_the_host_adds_the_forwarding_day():
    # given an anonymous non-professional editor: 1 day forwarding + 3 days insertion
    anonymous = (ClaimFact.PUBLISHER_ANONYMOUS_NON_PRO,)
    events = (*READY, LAWYER)
    on_10 = check(
        route=Route.DROIT_DE_REPONSE, today=date(2025, 4, 10), facts=anonymous, events=events
    )
    on_11 = check(
        route=Route.DROIT_DE_REPONSE, today=date(2025, 4, 11), facts=anonymous, events=events
    )
    direct_11 = check(route=Route.DROIT_DE_REPONSE, today=date(2025, 4, 11), events=events)
    assert blocked_ids(on_10) == []
    assert blocked_ids(on_11) == ["WAIT_WITHIN_PRESS_DEADLINE"]
    assert on_11.blocked[0].message.startswith(
        "L'attente liée à « Droit de réponse en ligne » peut durer jusqu'au 15/04/2025"
    )
    assert blocked_ids(direct_11) == []


def test_interruption_moves_the_limit_used_by_the_guard():
    # given a civil procedural act on 1 Apr: the press deadline becomes 30 Jun
    events = (*READY, LAWYER, ClaimEvent(E.CIVIL_PROCEDURAL_ACT, date(2025, 4, 1)))
    result = check(route=Route.DSA_NOTICE, today=date(2025, 4, 10), events=events)
    assert result == ALLOWED


def test_amicable_steps_do_not_buy_time_for_the_guard():
    # given a mise en demeure and a GDPR request already sent (not interruptive)
    events = (
        *READY,
        LAWYER,
        ClaimEvent(E.MISE_EN_DEMEURE_SENT, date(2025, 2, 1)),
        ClaimEvent(E.GDPR_REQUEST_SENT, date(2025, 2, 2)),
    )
    result = check(route=Route.DSA_NOTICE, today=date(2025, 3, 31), events=events)
    assert blocked_ids(result) == ["WAIT_WITHIN_PRESS_DEADLINE"]


def test_no_press_deadline_no_wait_limit():
    # given a listing only (no loi 1881 clock) / then a long GDPR wait is fine
    result = check(
        route=Route.GDPR_OBJECTION_ERASURE,
        categories=[C.PERSONAL_DATA_LISTING],
        today=date(2025, 4, 30),
    )
    assert result == ALLOWED


def test_discriminatory_speech_uses_the_one_year_limit():
    # given discriminatory speech: limit 14 Jan 2026; GDPR request on 1 Dec 2025 → 1 Mar 2026
    result = check(
        route=Route.GDPR_OBJECTION_ERASURE,
        categories=[C.DISCRIMINATORY_SPEECH, C.PERSONAL_DATA_LISTING],
        today=date(2025, 12, 1),
    )
    assert blocked_ids(result) == ["WAIT_WITHIN_PRESS_DEADLINE"]
    assert "14/01/2026" in result.blocked[0].message


# --- lawyer, conciliation, replies, procedures ---------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2025, 3, 16), []), (date(2025, 3, 17), ["LAWYER_BY_DAY_60"])],
)
def test_lawyer_required_after_day_60_for_amicable_steps(today, expected):
    result = check(route=Route.PLATFORM_REPORT_TOS, today=today)
    assert blocked_ids(result) == expected


def test_lawyer_day_60_message():
    result = check(route=Route.PLATFORM_REPORT_TOS, today=date(2025, 3, 17))
    assert result.blocked[0].message == (
        "L'avocat devait être saisi au plus tard le 16/03/2025 (60 jours après la publication) : plus de "
        "démarche amiable sans avocat."
    )


def test_litigation_needs_a_lawyer_except_the_cnil_complaint():
    no_lawyer = check(to_state=S.LITIGATION, route=Route.REFERE_835)
    assert blocked_ids(no_lawyer) == ["LAWYER_FOR_LITIGATION"]
    with_lawyer = check(to_state=S.LITIGATION, route=Route.REFERE_835, events=(*READY, LAWYER))
    assert with_lawyer == ALLOWED
    requested = (*READY, ClaimEvent(E.GDPR_REQUEST_SENT, date(2025, 1, 27)))
    cnil = check(
        to_state=S.LITIGATION,
        route=Route.CNIL_COMPLAINT,
        categories=[C.PERSONAL_DATA_LISTING],
        events=requested,
    )
    assert cnil == ALLOWED


def test_cnil_complaint_only_after_the_controller_was_asked():
    result = check(
        to_state=S.LITIGATION, route=Route.CNIL_COMPLAINT, categories=[C.PERSONAL_DATA_LISTING]
    )
    assert blocked_ids(result) == ["CNIL_AFTER_CONTROLLER"]


def test_doctor_author_needs_conciliation_before_litigation():
    # given the author is a doctor and the lawyer is engaged
    events = (*READY, LAWYER)
    doctor = (ClaimFact.AUTHOR_IS_DOCTOR,)
    result = check(to_state=S.LITIGATION, route=Route.ASSIGNATION_FOND, facts=doctor, events=events)
    # then litigation is blocked until conciliation through the Ordre was sought
    assert blocked_ids(result) == ["CONCILIATION_BEFORE_LITIGATION"]
    assert result.blocked[0].basis == "CSP art. R4127-56"
    sought = (*events, ClaimEvent(E.CONCILIATION_REQUESTED, date(2025, 1, 28)))
    after = check(to_state=S.LITIGATION, route=Route.ASSIGNATION_FOND, facts=doctor, events=sought)
    assert after == ALLOWED


def test_conciliation_route_is_for_doctor_authors_only():
    to_med = {"to_state": S.MISE_EN_DEMEURE, "route": Route.CONCILIATION_ORDINALE}
    assert blocked_ids(check(**to_med)) == ["CONCILIATION_BETWEEN_DOCTORS"]
    assert check(**to_med, facts=(ClaimFact.AUTHOR_IS_DOCTOR,)) == ALLOWED


@pytest.mark.parametrize("route", [Route.REPLY, Route.CONTACT_AUTHOR])
def test_no_reply_or_contact_on_illicit_content_without_counsel(route):
    result = check(to_state=S.REPLY_CONTACT, route=route, categories=[C.DIFFAMATION])
    assert blocked_ids(result) == ["NO_PUBLIC_REPLY_ON_ILLICIT"]
    lawful = check(to_state=S.REPLY_CONTACT, route=route, categories=[C.LAWFUL_NEGATIVE])
    assert lawful == ALLOWED


def test_reply_on_illicit_content_with_counsel():
    result = check(
        to_state=S.REPLY_CONTACT,
        route=Route.REPLY,
        categories=[C.DIFFAMATION],
        events=(*READY, LAWYER),
    )
    assert result == ALLOWED


def test_droit_de_reponse_closed_when_the_site_allows_a_direct_reply():
    result = check(
        route=Route.DROIT_DE_REPONSE,
        categories=[C.LAWFUL_NEGATIVE],
        facts=(ClaimFact.DIRECT_REPLY_AVAILABLE,),
    )
    assert blocked_ids(result) == ["DIRECT_REPLY_EXCLUDES_DROIT_DE_REPONSE"]


def test_droit_de_reponse_closed_after_three_months():
    result = check(
        route=Route.DROIT_DE_REPONSE, categories=[C.LAWFUL_NEGATIVE], today=date(2025, 4, 15)
    )
    assert blocked_ids(result) == ["DROIT_DE_REPONSE_WINDOW_OPEN"]
    assert result.blocked[0].message == (
        "Le délai de 3 mois pour demander un droit de réponse a expiré le 14/04/2025."
    )


def test_identification_request_only_for_an_anonymous_author():
    base = {"to_state": S.LITIGATION, "route": Route.IDENTIFICATION_REQUETE_145}
    events = (*READY, LAWYER)
    assert blocked_ids(check(**base, events=events)) == ["IDENTIFICATION_IF_ANONYMOUS"]
    anonymous = check(**base, events=events, facts=(ClaimFact.AUTHOR_ANONYMOUS,))
    assert anonymous == ALLOWED


def test_litigation_after_the_press_deadline_warns():
    result = check(
        to_state=S.LITIGATION,
        route=Route.CITATION_DIRECTE,
        today=date(2025, 4, 20),
        events=(*READY, LAWYER),
    )
    assert result.allowed is True
    assert [(w.guard_id, w.message) for w in result.warnings] == [
        (
            "PRESS_LIMIT_PASSED",
            "L'échéance de prescription de la loi de 1881 (14/04/2025) est dépassée : l'action "
            "sur ce fondement est probablement prescrite.",
        )
    ]


def test_all_reasons_are_reported_at_once():
    # given a doctor author, no constat, no lawyer, no capture, jumping to litigation
    result = check(
        from_state=S.EVIDENCE,
        to_state=S.LITIGATION,
        route=Route.REFERE_835,
        facts=(ClaimFact.AUTHOR_IS_DOCTOR,),
        events=(ClaimEvent(E.INSURER_NOTIFIED, date(2025, 1, 20)),),
    )
    assert blocked_ids(result) == [
        "CAPTURE_DONE",
        "CONSTAT_BEFORE_REMOVAL",
        "CONCILIATION_BEFORE_LITIGATION",
        "LAWYER_FOR_LITIGATION",
    ]
    assert result.allowed is False
