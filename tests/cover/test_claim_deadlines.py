"""Clock engine (cover.deadlines): dated examples for every clock of DOMAIN §4.6."""

from datetime import date

import pytest

from cover.deadlines import (
    ClaimEvent,
    Deadline,
    DeadlineStatus,
    date_add_months,
    date_add_working_days,
    deadlines_compute,
    deadlines_press_limit,
)
from cover.rules import (
    CAVEAT_PRESS_AMICABLE,
    CAVEAT_PRESS_DAY_COUNT,
    CLOCKS,
    Alert,
    AlertAnchor,
    ClaimEventKind,
    ClaimFact,
    ClockKind,
    Confidence,
    ContentCategory,
    Duration,
    DurationUnit,
)

E = ClaimEventKind
C = ContentCategory
T_PUB = date(2025, 1, 15)


def by_id(deadlines: list[Deadline]) -> dict[str, Deadline]:
    return {d.clock_id + (f"#{d.ref}" if d.ref else ""): d for d in deadlines}


def compute(**kwargs):
    params = {"publication_date": T_PUB, "events": (), "today": date(2025, 2, 1)}
    params.update(kwargs)
    return deadlines_compute(**params)


# --- calendar arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 3, date(2025, 6, 30)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2025, 12, 15), 3, date(2026, 3, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 1, 15), 0, date(2025, 1, 15)),
    ],
)
def test_month_addition_clamps_to_the_end_of_a_shorter_month(start, months, expected):
    # given a start date and a number of months / when adding / then the day is kept or clamped
    assert date_add_months(start=start, months=months) == expected


def test_working_days_skip_the_weekend():
    # given Thursday 16 Jan 2025 and Friday 31 Jan 2025 / when adding 5 working days
    # then the weekend is skipped
    assert date_add_working_days(start=date(2025, 1, 16), days=5) == date(2025, 1, 23)
    assert date_add_working_days(start=date(2025, 1, 31), days=5) == date(2025, 2, 7)


# --- PRESS_3M ------------------------------------------------------------------------------


def test_press_3m_injure_due_date_alerts_and_basis():
    # given an insult published on 15 Jan 2025, checked on 1 Feb 2025
    # when computing
    deadlines = by_id(compute(categories=[C.INJURE]))
    # then the hard deadline is T_pub + 3 months - 1 day with alerts at day 45 and day 60
    press = deadlines["PRESS_3M"]
    assert press.start_date == date(2025, 1, 15)
    assert press.due_date == date(2025, 4, 14)
    assert press.days_left == 72
    assert press.alert_dates == (date(2025, 3, 1), date(2025, 3, 16))
    assert press.status is DeadlineStatus.OK
    assert press.hard is True
    assert press.kind is ClockKind.LIMITATION
    assert press.categories == (C.INJURE,)
    assert press.legal_basis == "Loi du 29 juillet 1881, art. 65 ; Cass. crim. 30 janv. 2001"
    assert press.confidence == (Confidence.TEXT, Confidence.SEC)
    assert press.caveats[:2] == (CAVEAT_PRESS_DAY_COUNT, CAVEAT_PRESS_AMICABLE)
    assert press.caveats[0].tag is Confidence.UNVERIFIED
    assert press.interrupted_on == ()


@pytest.mark.parametrize(
    ("t_pub", "expected_due"),
    [
        (date(2024, 11, 30), date(2025, 2, 27)),
        (date(2024, 11, 29), date(2025, 2, 27)),
        (date(2023, 11, 30), date(2024, 2, 28)),
        (date(2025, 3, 31), date(2025, 6, 29)),
        (date(2025, 5, 31), date(2025, 8, 30)),
        (date(2025, 12, 1), date(2026, 2, 28)),
    ],
)
def test_press_3m_end_of_month_edge_cases(t_pub, expected_due):
    # given a publication at a month end / when computing / then the earlier reading minus a day
    deadlines = by_id(compute(publication_date=t_pub, categories=[C.DIFFAMATION], today=t_pub))
    assert deadlines["PRESS_3M"].due_date == expected_due


@pytest.mark.parametrize(
    ("today", "status", "days_left"),
    [
        (date(2025, 2, 28), DeadlineStatus.OK, 45),
        (date(2025, 3, 1), DeadlineStatus.ALERT, 44),
        (date(2025, 4, 14), DeadlineStatus.ALERT, 0),
        (date(2025, 4, 15), DeadlineStatus.OVERDUE, -1),
    ],
)
def test_press_3m_status_by_day(today, status, days_left):
    # given T_pub 15 Jan 2025 / when checking on various days / then ok, alert from day 45, overdue
    press = by_id(compute(categories=[C.INJURE], today=today))["PRESS_3M"]
    assert (press.status, press.days_left) == (status, days_left)


def test_amicable_steps_do_not_interrupt_the_press_clock():
    # given every amicable step of DOMAIN §3.1 recorded before the deadline
    amicable = [
        ClaimEvent(E.CONTENT_DISCOVERED, date(2025, 2, 1)),
        ClaimEvent(E.DSA_NOTICE_SENT, date(2025, 2, 2)),
        ClaimEvent(E.MISE_EN_DEMEURE_SENT, date(2025, 2, 3)),
        ClaimEvent(E.DROIT_DE_REPONSE_REQUEST_SENT, date(2025, 2, 4)),
        ClaimEvent(E.DROIT_DE_REPONSE_DIRECTOR_RECEIVED, date(2025, 2, 6)),
        ClaimEvent(E.GDPR_REQUEST_SENT, date(2025, 2, 5)),
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 2, 7)),
        ClaimEvent(E.PLAINTE_SIMPLE, date(2025, 2, 8)),
    ]
    # when computing
    press = by_id(compute(categories=[C.INJURE], events=amicable, today=date(2025, 3, 1)))[
        "PRESS_3M"
    ]
    # then the deadline has not moved
    assert press.due_date == date(2025, 4, 14)
    assert press.start_date == date(2025, 1, 15)
    assert press.interrupted_on == ()


def test_interrupting_and_amicable_event_lists_are_disjoint():
    # given the PRESS_3M rule / then no amicable step is listed as interruptive
    rule = CLOCKS["PRESS_3M"]
    assert set(rule.interrupted_by) & set(rule.not_interrupted_by) == set()
    assert rule.interrupted_by == (
        E.REQUISITIONS_AUX_FINS_D_ENQUETE,
        E.PROSECUTION_OR_INSTRUCTION_ACT,
        E.CIVIL_PROCEDURAL_ACT,
    )


def test_procedural_act_restarts_three_months():
    # given a civil procedural act on 1 Apr 2025, before the 14 Apr deadline
    events = [ClaimEvent(E.CIVIL_PROCEDURAL_ACT, date(2025, 4, 1))]
    # when computing on 10 Apr
    press = by_id(compute(categories=[C.INJURE], events=events, today=date(2025, 4, 10)))[
        "PRESS_3M"
    ]
    # then a new 3-month period runs from the act, with its own day-45/60 reminders
    assert press.start_date == date(2025, 4, 1)
    assert press.due_date == date(2025, 6, 30)
    assert press.interrupted_on == (date(2025, 4, 1),)
    assert press.alert_dates == (date(2025, 5, 16), date(2025, 5, 31))
    assert press.status is DeadlineStatus.OK


def test_successive_interruptions_chain():
    # given réquisitions on 10 Mar and a prosecution act on 1 Jun
    events = [
        ClaimEvent(E.REQUISITIONS_AUX_FINS_D_ENQUETE, date(2025, 3, 10)),
        ClaimEvent(E.PROSECUTION_OR_INSTRUCTION_ACT, date(2025, 6, 1)),
    ]
    # when computing / then each act restarts the period from its own date
    press = by_id(compute(categories=[C.INJURE], events=events, today=date(2025, 6, 5)))["PRESS_3M"]
    assert press.interrupted_on == (date(2025, 3, 10), date(2025, 6, 1))
    assert press.due_date == date(2025, 8, 31)


def test_act_after_lapse_does_not_revive_the_clock():
    # given a procedural act dated after the deadline already passed
    events = [ClaimEvent(E.CIVIL_PROCEDURAL_ACT, date(2025, 4, 20))]
    # when computing / then the clock stays lapsed
    press = by_id(compute(categories=[C.INJURE], events=events, today=date(2025, 4, 25)))[
        "PRESS_3M"
    ]
    assert press.due_date == date(2025, 4, 14)
    assert press.interrupted_on == ()
    assert press.status is DeadlineStatus.OVERDUE
    assert press.days_left == -11


def test_lawyer_milestone_day_60_is_done_once_engaged():
    # given an insult and no lawyer / then the milestone is T_pub + 60 days
    open_ = by_id(compute(categories=[C.INJURE], today=date(2025, 3, 1)))["PRESS_LAWYER_D60"]
    assert open_.due_date == date(2025, 3, 16)
    assert open_.alert_dates == (date(2025, 3, 1),)
    assert open_.status is DeadlineStatus.ALERT
    assert open_.kind is ClockKind.MILESTONE
    # when the lawyer is engaged / then the milestone is done and sorted after open deadlines
    events = [ClaimEvent(E.LAWYER_ENGAGED, date(2025, 3, 2))]
    deadlines = compute(categories=[C.INJURE], events=events, today=date(2025, 3, 3))
    assert [(d.clock_id, d.status) for d in deadlines] == [
        ("PRESS_3M", DeadlineStatus.ALERT),
        ("DROIT_DE_REPONSE_REQUEST_3M", DeadlineStatus.OK),
        ("PRESS_LAWYER_D60", DeadlineStatus.DONE),
    ]


# --- other limitation clocks ---------------------------------------------------------------


def test_discriminatory_speech_one_year_from_29_february():
    # given discriminatory speech published on 29 Feb 2024
    deadlines = by_id(
        compute(
            publication_date=date(2024, 2, 29),
            categories=[C.DISCRIMINATORY_SPEECH],
            today=date(2025, 1, 28),
        )
    )
    # then 1 year - 1 day, clamped: 27 Feb 2025, alerted 30 days before
    discrim = deadlines["PRESS_DISCRIM_1Y"]
    assert discrim.due_date == date(2025, 2, 27)
    assert discrim.alert_dates == (date(2025, 1, 28),)
    assert discrim.status is DeadlineStatus.ALERT
    assert discrim.days_left == 30
    assert "PRESS_3M" not in deadlines
    assert "PRESS_LAWYER_D60" not in deadlines


def test_discriminatory_clock_is_not_extended_by_interruptions():
    # given an interrupting act / then the conservative 1-year deadline does not move
    events = [ClaimEvent(E.PROSECUTION_OR_INSTRUCTION_ACT, date(2025, 12, 1))]
    discrim = by_id(
        compute(categories=[C.DISCRIMINATORY_SPEECH], events=events, today=date(2025, 12, 2))
    )["PRESS_DISCRIM_1Y"]
    assert discrim.due_date == date(2026, 1, 14)
    assert discrim.interrupted_on == ()


def test_denigrement_keeps_the_press_clock_until_counsel_excludes_it():
    # given a dénigrement passage (requalification risk)
    deadlines = compute(categories=[C.DENIGREMENT])
    # then the 3-month clock applies alongside the 5-year civil clock, nearest first
    assert [(d.clock_id, d.due_date) for d in deadlines] == [
        ("PRESS_LAWYER_D60", date(2025, 3, 16)),
        ("PRESS_3M", date(2025, 4, 14)),
        ("DROIT_DE_REPONSE_REQUEST_3M", date(2025, 4, 14)),
        ("CIVIL_5Y", date(2030, 1, 14)),
    ]
    # when counsel confirms dénigrement / then only the civil and droit de réponse clocks remain
    confirmed = compute(categories=[C.DENIGREMENT], facts=[ClaimFact.COUNSEL_EXCLUDES_PRESS_LAW])
    assert [d.clock_id for d in confirmed] == ["DROIT_DE_REPONSE_REQUEST_3M", "CIVIL_5Y"]


def test_civil_5y_start_conflict_is_carried():
    # given a privacy breach / then the civil clock carries the [CONFLICT] on its start point
    civil = by_id(compute(categories=[C.PRIVACY]))["CIVIL_5Y"]
    assert civil.due_date == date(2030, 1, 14)
    assert [c.tag for c in civil.caveats] == [Confidence.CONFLICT]
    assert civil.alert_dates == (date(2029, 12, 15),)


def test_delit_6y_only_for_recording_in_a_private_place():
    # given image rights without / with the 226-1 fact
    without = by_id(compute(categories=[C.IMAGE_RIGHTS]))
    with_226_1 = by_id(compute(categories=[C.IMAGE_RIGHTS], facts=[ClaimFact.CRIMINAL_226_1]))
    # then the 6-year criminal clock appears only with the fact
    assert "DELIT_6Y" not in without
    assert with_226_1["DELIT_6Y"].due_date == date(2031, 1, 14)


# --- droit de réponse ----------------------------------------------------------------------


def test_droit_de_reponse_request_window_and_exclusion():
    # given a lawful negative review on a site without a direct reply feature
    ddr = by_id(compute(categories=[C.LAWFUL_NEGATIVE]))["DROIT_DE_REPONSE_REQUEST_3M"]
    assert ddr.due_date == date(2025, 4, 14)
    assert ddr.kind is ClockKind.ACTION_WINDOW
    assert ddr.alert_dates == (date(2025, 3, 15),)
    # when the site lets the doctor reply directly / then the procedure is closed (no clock)
    direct = compute(categories=[C.LAWFUL_NEGATIVE], facts=[ClaimFact.DIRECT_REPLY_AVAILABLE])
    assert direct == []
    # when the request was sent / then the window is done
    sent = [ClaimEvent(E.DROIT_DE_REPONSE_REQUEST_SENT, date(2025, 2, 1))]
    done = by_id(compute(categories=[C.LAWFUL_NEGATIVE], events=sent))
    assert done["DROIT_DE_REPONSE_REQUEST_3M"].status is DeadlineStatus.DONE


def test_droit_de_reponse_host_forward_insertion_and_display():
    # given a request received by the host on 3 Mar, by the director on 3 Mar, published 6 Mar
    events = [
        ClaimEvent(E.DROIT_DE_REPONSE_HOST_RECEIVED, date(2025, 3, 3)),
        ClaimEvent(E.DROIT_DE_REPONSE_DIRECTOR_RECEIVED, date(2025, 3, 3)),
        ClaimEvent(E.DROIT_DE_REPONSE_PUBLISHED, date(2025, 3, 6)),
    ]
    deadlines = by_id(compute(categories=[], events=events, today=date(2025, 3, 6)))
    # then 24 h forwarding, 3-day insertion, 1-day minimum display
    assert deadlines["DROIT_DE_REPONSE_HOST_FORWARD"].due_date == date(2025, 3, 4)
    assert deadlines["DROIT_DE_REPONSE_HOST_FORWARD"].status is DeadlineStatus.DONE
    insertion = deadlines["DROIT_DE_REPONSE_INSERTION_3D"]
    assert insertion.due_date == date(2025, 3, 6)
    assert insertion.status is DeadlineStatus.DONE
    assert [c.tag for c in insertion.caveats] == [Confidence.CONFLICT]
    assert deadlines["DROIT_DE_REPONSE_DISPLAY_MIN"].due_date == date(2025, 3, 7)


def test_insertion_overdue_without_publication():
    # given the director received the request on 3 Mar and nothing was published by 7 Mar
    events = [ClaimEvent(E.DROIT_DE_REPONSE_DIRECTOR_RECEIVED, date(2025, 3, 3))]
    insertion = by_id(compute(categories=[], events=events, today=date(2025, 3, 7)))[
        "DROIT_DE_REPONSE_INSERTION_3D"
    ]
    assert (insertion.status, insertion.days_left) == (DeadlineStatus.OVERDUE, -1)


# --- GDPR, dereferencing, CNIL -------------------------------------------------------------


def test_gdpr_one_month_from_receipt_at_month_end():
    # given a GDPR request received on 31 Jan 2025
    events = [ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 31), ref="google")]
    gdpr = by_id(compute(categories=[C.PERSONAL_DATA_LISTING], events=events))[
        "GDPR_RESPONSE_1M#google"
    ]
    # then the answer is due on 28 Feb (waiting windows are not shortened)
    assert gdpr.due_date == date(2025, 2, 28)
    assert gdpr.hard is False
    assert gdpr.extended is False
    assert gdpr.legal_basis == "RGPD art. 12(3)"
    assert [c.tag for c in gdpr.caveats] == [Confidence.CONFLICT]


def test_gdpr_extension_notified_within_the_first_month_adds_two_months():
    events = [
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 31), ref="google"),
        ClaimEvent(E.GDPR_EXTENSION_NOTIFIED, date(2025, 2, 20), ref="google"),
    ]
    gdpr = by_id(compute(categories=[], events=events, today=date(2025, 3, 1)))[
        "GDPR_RESPONSE_1M#google"
    ]
    assert gdpr.extended is True
    # then 31 Jan + 3 months = 30 April (not 28 Feb + 2 months = 28 April)
    assert gdpr.due_date == date(2025, 4, 30)


def test_gdpr_late_extension_is_ignored_and_flagged():
    events = [
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 31), ref="google"),
        ClaimEvent(E.GDPR_EXTENSION_NOTIFIED, date(2025, 3, 5), ref="google"),
    ]
    gdpr = by_id(compute(categories=[], events=events, today=date(2025, 3, 6)))[
        "GDPR_RESPONSE_1M#google"
    ]
    assert gdpr.extended is False
    assert gdpr.due_date == date(2025, 2, 28)
    assert gdpr.status is DeadlineStatus.OVERDUE
    assert gdpr.caveats[-1].text == (
        "Prolongation notifiée après le premier délai : non prise en compte (RGPD art. 12(3))."
    )


def test_gdpr_requests_to_two_controllers_run_separately():
    events = [
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 20), ref="google"),
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 25), ref="annuaire"),
        ClaimEvent(E.GDPR_EXTENSION_NOTIFIED, date(2025, 2, 1), ref="annuaire"),
        ClaimEvent(E.GDPR_ANSWER_RECEIVED, date(2025, 2, 10), ref="google"),
    ]
    deadlines = by_id(compute(categories=[], events=events, today=date(2025, 2, 15)))
    assert deadlines["GDPR_RESPONSE_1M#google"].status is DeadlineStatus.DONE
    assert deadlines["GDPR_RESPONSE_1M#google"].due_date == date(2025, 2, 20)
    assert deadlines["GDPR_RESPONSE_1M#annuaire"].status is DeadlineStatus.OK
    assert deadlines["GDPR_RESPONSE_1M#annuaire"].due_date == date(2025, 4, 25)


def test_dereferencing_and_cnil_silence():
    events = [
        ClaimEvent(E.DEREFERENCING_REQUEST_RECEIVED, date(2025, 1, 31), ref="bing"),
        ClaimEvent(E.CNIL_COMPLAINT_RECEIVED, date(2025, 1, 31), ref="plainte-1"),
    ]
    deadlines = by_id(compute(categories=[], events=events))
    assert deadlines["DEREFERENCING_RESPONSE_1M#bing"].due_date == date(2025, 2, 28)
    cnil = deadlines["CNIL_SILENCE_3M#plainte-1"]
    assert cnil.due_date == date(2025, 4, 30)
    assert cnil.confidence == (Confidence.SEC,)


# --- DSA, mise en demeure, insurer, conciliation -------------------------------------------


def test_dsa_decision_chase_and_complaint_window():
    # given a DSA notice on 3 Mar 2025, checked on 12 Mar / then chase at D+7, escalate at D+15
    notice = [ClaimEvent(E.DSA_NOTICE_SENT, date(2025, 3, 3), ref="h")]
    dsa = by_id(compute(categories=[], events=notice, today=date(2025, 3, 12)))["DSA_DECISION#h"]
    assert dsa.due_date == date(2025, 3, 18)
    assert dsa.alert_dates == (date(2025, 3, 10),)
    assert dsa.status is DeadlineStatus.ALERT
    # when the platform notifies its decision on 14 Mar
    decided = [*notice, ClaimEvent(E.PLATFORM_DECISION_NOTIFIED, date(2025, 3, 14), ref="h")]
    deadlines = by_id(compute(categories=[], events=decided, today=date(2025, 3, 14)))
    # then the decision clock is done and the 6-month internal complaint window opens
    assert deadlines["DSA_DECISION#h"].status is DeadlineStatus.DONE
    window = deadlines["DSA_COMPLAINT_WINDOW_6M#h"]
    assert window.due_date == date(2025, 9, 13)
    assert window.alert_dates == (date(2025, 8, 14),)
    assert window.hard is True


def test_mise_en_demeure_cure_period():
    events = [ClaimEvent(E.MISE_EN_DEMEURE_SENT, date(2025, 3, 3), ref="auteur")]
    cure = by_id(compute(categories=[], events=events, today=date(2025, 3, 3)))[
        "MISE_EN_DEMEURE_CURE#auteur"
    ]
    assert cure.due_date == date(2025, 3, 11)
    assert cure.days_left == 8


def test_insurer_declaration_five_working_days_from_discovery():
    events = [ClaimEvent(E.CONTENT_DISCOVERED, date(2025, 1, 16))]
    insurer = by_id(compute(categories=[], events=events, today=date(2025, 1, 21)))[
        "INSURER_DECLARATION"
    ]
    assert insurer.due_date == date(2025, 1, 23)
    assert insurer.alert_dates == (date(2025, 1, 21),)
    assert insurer.status is DeadlineStatus.ALERT
    assert [c.tag for c in insurer.caveats] == [Confidence.UNVERIFIED]


def test_ordinal_conciliation_about_one_month():
    events = [ClaimEvent(E.CONCILIATION_REQUESTED, date(2025, 1, 31))]
    concil = by_id(compute(categories=[], events=events))["ORDINAL_CONCILIATION"]
    assert concil.due_date == date(2025, 2, 28)


# --- ordering, overrides, validation -------------------------------------------------------


def test_nearest_hard_deadline_first_then_soft():
    # given an insult, a listing with a GDPR request and a DSA notice
    events = [
        ClaimEvent(E.CONTENT_DISCOVERED, date(2025, 1, 20)),
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 22), ref="g"),
        ClaimEvent(E.DSA_NOTICE_SENT, date(2025, 1, 23), ref="h"),
    ]
    deadlines = compute(
        categories=[C.INJURE, C.PERSONAL_DATA_LISTING], events=events, today=date(2025, 1, 24)
    )
    # then hard deadlines come first by date, then the waiting windows
    assert [(d.clock_id, d.due_date, d.hard) for d in deadlines] == [
        ("INSURER_DECLARATION", date(2025, 1, 27), True),
        ("PRESS_LAWYER_D60", date(2025, 3, 16), True),
        ("PRESS_3M", date(2025, 4, 14), True),
        ("DROIT_DE_REPONSE_REQUEST_3M", date(2025, 4, 14), True),
        ("DSA_DECISION", date(2025, 2, 7), False),
        ("GDPR_RESPONSE_1M", date(2025, 2, 22), False),
    ]


def test_press_limit_is_the_nearest_open_1881_deadline():
    deadlines = compute(categories=[C.DISCRIMINATORY_SPEECH, C.INJURE])
    press = deadlines_press_limit(deadlines=deadlines)
    assert press is not None
    assert (press.clock_id, press.due_date) == ("PRESS_3M", date(2025, 4, 14))
    assert deadlines_press_limit(deadlines=compute(categories=[C.LAWFUL_NEGATIVE])) is None


def test_override_of_an_unverified_value_is_applied_and_shown():
    # given an insurer whose counsel reads "trois mois révolus" as T_pub + 3 months
    overrides = {"PRESS_3M": {"end_offset_days": 0}}
    press = by_id(compute(categories=[C.INJURE], overrides=overrides))["PRESS_3M"]
    # then the due date moves by one day and the change is visible
    assert press.due_date == date(2025, 4, 15)
    assert press.overridden_fields == ("end_offset_days",)
    assert press.caveats[-1].text == (
        "Valeur modifiée par la configuration de l'assureur : end_offset_days."
    )
    assert CLOCKS["PRESS_3M"].end_offset_days == -1


def test_override_of_gdpr_duration_and_alerts():
    overrides = {
        "GDPR_RESPONSE_1M": {
            "duration": Duration(2, DurationUnit.MONTHS),
            "alerts": (Alert(5, AlertAnchor.DUE),),
        }
    }
    events = [ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2025, 1, 31))]
    gdpr = by_id(compute(categories=[], events=events, overrides=overrides))["GDPR_RESPONSE_1M"]
    assert gdpr.due_date == date(2025, 3, 31)
    assert gdpr.alert_dates == (date(2025, 3, 26),)
    assert gdpr.overridden_fields == ("alerts", "duration")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PRESS_6M": {"end_offset_days": 0}}, "unknown clock id in overrides: 'PRESS_6M'"),
        (
            {"PRESS_3M": {"duration_days": 90}},
            "unknown clock fields in overrides for PRESS_3M: ['duration_days']",
        ),
        ({"PRESS_3M": {"id": "X"}}, "unknown clock fields in overrides for PRESS_3M: ['id']"),
    ],
)
def test_override_typos_are_refused(overrides, message):
    with pytest.raises(ValueError) as error:
        compute(categories=[C.INJURE], overrides=overrides)
    assert str(error.value) == message


def test_future_events_and_publication_are_refused():
    with pytest.raises(ValueError) as error:
        compute(categories=[C.INJURE], events=[ClaimEvent(E.DSA_NOTICE_SENT, date(2025, 2, 2))])
    assert str(error.value) == "events dated after today: ['DSA_NOTICE_SENT']"
    with pytest.raises(ValueError) as error:
        compute(categories=[C.INJURE], publication_date=date(2025, 2, 2))
    assert str(error.value) == "publication_date is after today"
