"""Clock calendar: months from the original start, French public holidays, hard deadlines on a
non-working day, the insurer's calendar and overrides, and clocks that run without a category."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cover.claims.selectors.engine import claim_categories, claim_deadlines, clock_configuration
from cover.claims.services.reminders import claims_deadline_reminders_send
from cover.deadlines import (
    ClaimEvent,
    Deadline,
    date_add_months,
    date_add_working_days,
    deadlines_compute,
    is_working_day,
    last_working_day_before,
)
from cover.models import ClockSettings
from cover.rules import (
    Alert,
    AlertAnchor,
    ClaimEventKind,
    ContentCategory,
    Duration,
    DurationUnit,
    HolidayCalendar,
    clock_overrides_from_json,
    declaration_delay_duration,
)
from tenants.services import roles_apply
from tests.conftest import staff_login
from tests.cover.claims_factories import (
    claim_create,
    claim_qualified,
    doctor_create,
    handler_create,
)
from tests.cover.factories import PlanFactory, PolicyFactory
from tests.tenants.factories import InsurerAdminFactory

E = ClaimEventKind
C = ContentCategory
H = HolidayCalendar


def by_id(deadlines: list[Deadline]) -> dict[str, Deadline]:
    return {d.clock_id: d for d in deadlines}


def compute(*, publication_date: date, today: date, **kwargs) -> dict[str, Deadline]:
    params = {"categories": (), "events": ()}
    params.update(kwargs)
    return by_id(deadlines_compute(publication_date=publication_date, today=today, **params))


# --- months are counted from the original start date -------------------------------------


def test_gdpr_extension_is_added_to_the_start_not_to_the_clamped_month_end():
    # given a GDPR request received on 31 Jan 2026 and an extension notified within the month
    events = [
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2026, 1, 31)),
        ClaimEvent(E.GDPR_EXTENSION_NOTIFIED, date(2026, 2, 20)),
    ]
    # when the clocks are computed
    gdpr = compute(publication_date=date(2026, 1, 2), today=date(2026, 3, 1), events=events)[
        "GDPR_RESPONSE_1M"
    ]
    # then 31 Jan + 1 month + 2 months = 30 April, not 28 Feb + 2 months = 28 April
    assert (gdpr.extended, gdpr.due_date) == (True, date(2026, 4, 30))


def test_gdpr_without_extension_is_clamped_to_the_end_of_february():
    events = [ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2026, 1, 31))]
    gdpr = compute(publication_date=date(2026, 1, 2), today=date(2026, 2, 1), events=events)[
        "GDPR_RESPONSE_1M"
    ]
    assert (gdpr.extended, gdpr.due_date) == (False, date(2026, 2, 28))


def test_dereferencing_extension_shares_the_month_arithmetic():
    events = [
        ClaimEvent(E.DEREFERENCING_REQUEST_RECEIVED, date(2026, 1, 31)),
        ClaimEvent(E.DEREFERENCING_EXTENSION_NOTIFIED, date(2026, 2, 27)),
    ]
    deref = compute(publication_date=date(2026, 1, 2), today=date(2026, 3, 1), events=events)[
        "DEREFERENCING_RESPONSE_1M"
    ]
    assert (deref.extended, deref.due_date) == (True, date(2026, 4, 30))


def test_press_law_three_months_from_31_january():
    # given T_pub 31 Jan 2026 / when adding 3 months / then 30 April, minus one day (DOMAIN §3.1)
    assert date_add_months(start=date(2026, 1, 31), months=3) == date(2026, 4, 30)
    deadlines = compute(
        publication_date=date(2026, 1, 31), today=date(2026, 2, 2), categories=[C.INJURE]
    )
    assert deadlines["PRESS_3M"].due_date == date(2026, 4, 29)
    assert deadlines["DROIT_DE_REPONSE_REQUEST_3M"].due_date == date(2026, 4, 29)
    assert deadlines["PRESS_3M"].act_by_date is None


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2028, 2, 29), 3, date(2028, 5, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2028, 1, 31), 3, date(2028, 4, 30)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
    ],
)
def test_leap_day_month_arithmetic(start, months, expected):
    assert date_add_months(start=start, months=months) == expected


def test_leap_day_publication_clocks():
    # given T_pub 29 Feb 2028, an insult and discriminatory speech
    deadlines = compute(
        publication_date=date(2028, 2, 29),
        today=date(2028, 3, 1),
        categories=[C.INJURE, C.DISCRIMINATORY_SPEECH],
    )
    # then the press clock ends 29 May − 1 = Sunday 28 May 2028: act by Friday 26 May, since
    # Thursday 25 May 2028 is Ascension Day
    press = deadlines["PRESS_3M"]
    assert (press.due_date, press.act_by_date) == (date(2028, 5, 28), date(2028, 5, 26))
    # and the one-year clock ends 28 Feb 2029 − 1 = Tuesday 27 Feb 2029
    discrim = deadlines["PRESS_DISCRIM_1Y"]
    assert (discrim.due_date, discrim.act_by_date) == (date(2029, 2, 27), None)


def test_leap_year_gdpr_extension_from_31_january_2028():
    events = [
        ClaimEvent(E.GDPR_REQUEST_RECEIVED, date(2028, 1, 31)),
        ClaimEvent(E.GDPR_EXTENSION_NOTIFIED, date(2028, 2, 29)),
    ]
    gdpr = compute(publication_date=date(2028, 1, 2), today=date(2028, 3, 1), events=events)[
        "GDPR_RESPONSE_1M"
    ]
    # the extension was notified on the last day of the first month (29 Feb 2028)
    assert (gdpr.extended, gdpr.due_date) == (True, date(2028, 4, 30))
    # a waiting window (the other party's time) has no « à accomplir avant le »
    assert gdpr.act_by_date is None


# --- French public holidays --------------------------------------------------------------


@pytest.mark.parametrize(
    ("holiday", "day_before", "next_working_day"),
    [
        (date(2026, 5, 1), date(2026, 4, 30), date(2026, 5, 4)),  # Fête du travail (Friday)
        (date(2026, 5, 8), date(2026, 5, 7), date(2026, 5, 11)),  # Victoire 1945 (Friday)
        (date(2026, 5, 14), date(2026, 5, 13), date(2026, 5, 15)),  # Ascension (Thursday)
        (date(2026, 5, 25), date(2026, 5, 22), date(2026, 5, 26)),  # Lundi de Pentecôte
        (date(2026, 7, 14), date(2026, 7, 13), date(2026, 7, 15)),  # Fête nationale (Tuesday)
        (date(2025, 8, 15), date(2025, 8, 14), date(2025, 8, 18)),  # Assomption (Friday)
        (date(2027, 11, 1), date(2027, 10, 29), date(2027, 11, 2)),  # Toussaint (Monday)
        (date(2026, 11, 11), date(2026, 11, 10), date(2026, 11, 12)),  # Armistice (Wednesday)
        (date(2026, 12, 25), date(2026, 12, 24), date(2026, 12, 28)),  # Noël (Friday)
    ],
)
def test_metropolitan_holidays_are_not_working_days(holiday, day_before, next_working_day):
    # given a public holiday on a weekday / when adding one working day to the day before it
    # then the holiday is skipped
    assert holiday.weekday() < 5
    assert is_working_day(day=holiday) is False
    assert date_add_working_days(start=day_before, days=1) == next_working_day


def test_five_working_days_across_1_and_8_may_2026():
    # given Thursday 30 April 2026 / when adding 5 working days
    # then Friday 1 May and Friday 8 May are skipped: Monday 11 May
    assert date_add_working_days(start=date(2026, 4, 30), days=5) == date(2026, 5, 11)


def test_alsace_moselle_adds_good_friday_and_26_december():
    # given Thursday 2 April 2026 (Good Friday 3 April, Easter Monday 6 April)
    assert date_add_working_days(start=date(2026, 4, 2), days=1) == date(2026, 4, 3)
    assert date_add_working_days(
        start=date(2026, 4, 2), days=1, holiday_calendar=H.ALSACE_MOSELLE
    ) == date(2026, 4, 7)
    # given Wednesday 24 Dec 2025 (25 Dec Thursday, 26 Dec Friday)
    assert date_add_working_days(start=date(2025, 12, 24), days=1) == date(2025, 12, 26)
    assert date_add_working_days(
        start=date(2025, 12, 24), days=1, holiday_calendar=H.ALSACE_MOSELLE
    ) == date(2025, 12, 29)
    assert is_working_day(day=date(2025, 12, 26), holiday_calendar=H.ALSACE_MOSELLE) is False


def test_martinique_adds_its_abolition_of_slavery_day():
    # 22 May 2026 is a Friday; Monday 25 May is Whit Monday everywhere
    assert date_add_working_days(start=date(2026, 5, 21), days=1) == date(2026, 5, 22)
    assert date_add_working_days(
        start=date(2026, 5, 21), days=1, holiday_calendar=H.MARTINIQUE
    ) == date(2026, 5, 26)


def test_insurer_declaration_counts_the_insurers_holidays():
    # given content discovered on Wednesday 1 April 2026
    events = [ClaimEvent(E.CONTENT_DISCOVERED, date(2026, 4, 1))]
    # when the declaration clock is computed in metropolitan France and in Alsace-Moselle
    metropole = compute(publication_date=date(2026, 3, 30), today=date(2026, 4, 2), events=events)
    alsace = compute(
        publication_date=date(2026, 3, 30),
        today=date(2026, 4, 2),
        events=events,
        holiday_calendar=H.ALSACE_MOSELLE,
    )
    # then Easter Monday is skipped in both, Good Friday only in Alsace-Moselle
    assert metropole["INSURER_DECLARATION"].due_date == date(2026, 4, 9)
    assert alsace["INSURER_DECLARATION"].due_date == date(2026, 4, 10)


# --- a hard deadline on a non-working day is never extended ------------------------------


def test_press_deadline_on_a_sunday_is_to_be_done_before_the_friday():
    # given T_pub 30 Dec 2025: 30 Dec + 3 months − 1 day = Sunday 29 March 2026
    press = compute(
        publication_date=date(2025, 12, 30), today=date(2026, 1, 5), categories=[C.DIFFAMATION]
    )["PRESS_3M"]
    # then the legal date is kept and the day to act by is Friday 27 March
    assert press.due_date == date(2026, 3, 29)
    assert press.act_by_date == date(2026, 3, 27)
    assert press.caveats[-1].text == (
        "Échéance légale le 29/03/2026, jour non ouvré : le délai n'est pas prorogé, à "
        "accomplir avant le 27/03/2026."
    )


def test_press_deadline_on_a_public_holiday_is_to_be_done_the_day_before():
    # given T_pub 15 April 2026: the press clock ends Tuesday 14 July 2026 (Fête nationale)
    press = compute(
        publication_date=date(2026, 4, 15), today=date(2026, 4, 16), categories=[C.INJURE]
    )["PRESS_3M"]
    assert (press.due_date, press.act_by_date) == (date(2026, 7, 14), date(2026, 7, 13))


def test_last_working_day_before_skips_a_long_weekend():
    # Whit Monday 25 May 2026: the working day before Tuesday 26 May is Friday 22 May
    assert last_working_day_before(day=date(2026, 5, 26)) == date(2026, 5, 22)


# --- insurer configuration -----------------------------------------------------------------


def test_stored_json_overrides_become_engine_values():
    data = {
        "INSURER_DECLARATION": {
            "duration": {"amount": 10, "unit": "WORKING_DAYS"},
            "alerts": [{"days": 3, "anchor": "DUE"}],
        },
        "PRESS_3M": {"end_offset_days": 0},
    }
    assert clock_overrides_from_json(data) == {
        "INSURER_DECLARATION": {
            "duration": Duration(10, DurationUnit.WORKING_DAYS),
            "alerts": (Alert(3, AlertAnchor.DUE),),
        },
        "PRESS_3M": {"end_offset_days": 0},
    }
    assert clock_overrides_from_json({}) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"PRESS_6M": {}}, "unknown clock id in overrides: 'PRESS_6M'"),
        (
            {"PRESS_3M": {"interrupted_by": []}},
            "unknown clock fields in overrides for PRESS_3M: ['interrupted_by']",
        ),
        (
            {"PRESS_3M": {"duration": {"amount": 3, "unit": "WEEKS"}}},
            "PRESS_3M.duration: unknown unit 'WEEKS'",
        ),
        ({"PRESS_3M": {"end_offset_days": "0"}}, "PRESS_3M.end_offset_days: expected an integer"),
        ([], "clock overrides must be an object keyed by clock id"),
    ],
)
def test_invalid_json_overrides_are_refused(data, message):
    with pytest.raises(ValueError) as error:
        clock_overrides_from_json(data)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 jours ouvrés", Duration(5, DurationUnit.WORKING_DAYS)),
        ("10 jours ouvrables", Duration(10, DurationUnit.WORKING_DAYS)),
        ("15 jours", Duration(15, DurationUnit.DAYS)),
        ("2 mois", Duration(2, DurationUnit.MONTHS)),
        ("2 mois après refus", None),
        ("dès que possible", None),
    ],
)
def test_plan_declaration_delay_reads_as_a_duration(text, expected):
    assert declaration_delay_duration(text) == expected


# --- claims: insurer settings, contract delay, no category ---------------------------------


def _settings(**fields) -> ClockSettings:
    site = Site.objects.get(is_default_site=True)
    settings, _created = ClockSettings.objects.update_or_create(site=site, defaults=fields)
    return settings


@pytest.mark.django_db
def test_claim_without_category_has_its_declaration_deadline(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        # given a claim opened on Thursday 30 April 2026, not yet qualified
        claim = claim_create(
            doctor=doctor_create(email=f"sans-cat-{unique}@exemple.fr"),
            publication_date=date(2026, 4, 20),
            seen_date=date(2026, 4, 30),
            today=date(2026, 4, 30),
        )
        assert claim_categories(claim=claim) == ()
        # when its deadlines are read
        deadlines = by_id(claim_deadlines(claim=claim, today=date(2026, 5, 4)))
        # then the insurer declaration runs: 5 working days skipping 1 and 8 May
        assert list(deadlines) == ["INSURER_DECLARATION"]
        assert deadlines["INSURER_DECLARATION"].due_date == date(2026, 5, 11)
        # and the doctor sees it on the claim page
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(claim.doctor.user)
        page = client.get(f"/portail/sinistres/{claim.pk}/").content.decode()
        assert "Déclaration du sinistre à l&#x27;assureur : 11/05/2026" in page


@pytest.mark.django_db
def test_claim_without_category_gets_the_declaration_reminder(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        handler = handler_create(email=f"rappel-decl-{unique}@exemple.fr")
        claim = claim_create(
            doctor=doctor_create(email=f"sans-cat-rappel-{unique}@exemple.fr"),
            publication_date=date(2026, 4, 20),
            seen_date=date(2026, 4, 30),
            today=date(2026, 4, 30),
        )
        claim.assigned_to = handler
        claim.save(update_fields=["assigned_to"])
        mail.outbox.clear()
        # when the reminder job runs on the alert date (2 days before Monday 11 May)
        claims_deadline_reminders_send(today=date(2026, 5, 9))
        sent = [m for m in mail.outbox if claim.reference in m.subject]
    # then the handler is reminded of the declaration
    assert [(m.subject, m.to) for m in sent] == [
        (
            f"Échéance Déclaration du sinistre à l'assureur — dossier {claim.reference}",
            [handler.email],
        )
    ]


@pytest.mark.django_db
def test_insurer_calendar_and_overrides_reach_the_claim_deadlines(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        # given an insurer in Alsace-Moselle whose counsel reads the press clock without − 1 day
        _settings(
            holiday_calendar=H.ALSACE_MOSELLE.value,
            clock_overrides={"PRESS_3M": {"end_offset_days": 0}},
        )
        claim = claim_qualified(
            doctor=doctor_create(email=f"alsace-{unique}@exemple.fr"),
            publication_date=date(2026, 3, 25),
            seen_date=date(2026, 4, 1),
            today=date(2026, 4, 1),
        )
        # when the claim's deadlines are read
        deadlines = by_id(claim_deadlines(claim=claim, today=date(2026, 4, 2)))
    # then Good Friday is skipped for the declaration and the override is applied and shown
    assert deadlines["INSURER_DECLARATION"].due_date == date(2026, 4, 10)
    assert deadlines["PRESS_3M"].due_date == date(2026, 6, 25)
    assert deadlines["PRESS_3M"].overridden_fields == ("end_offset_days",)


@pytest.mark.django_db
def test_contract_declaration_delay_sets_the_declaration_clock(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        # given a policy whose plan gives 10 working days to declare
        doctor = doctor_create(email=f"contrat-{unique}@exemple.fr")
        policy = PolicyFactory(
            doctor=doctor,
            plan=PlanFactory(declaration_delay="10 jours ouvrés"),
            start_date=date(2025, 1, 1),
        )
        claim = claim_create(
            doctor=doctor,
            publication_date=date(2026, 4, 20),
            seen_date=date(2026, 4, 30),
            today=date(2026, 4, 30),
        )
        claim.policy = policy
        claim.save(update_fields=["policy"])
        declaration = by_id(claim_deadlines(claim=claim, today=date(2026, 5, 4)))[
            "INSURER_DECLARATION"
        ]
    # then 30 April + 10 working days, skipping 1 May, 8 May and Ascension (14 May) = 19 May
    assert declaration.due_date == date(2026, 5, 19)
    assert declaration.overridden_fields == ("duration",)


@pytest.mark.django_db
def test_invalid_overrides_are_refused_by_the_settings_form(tenant_a):
    with tenant_context(tenant_a.insurer):
        settings = _settings()
        settings.clock_overrides = {"PRESS_3M": {"duration_days": 90}}
        with pytest.raises(ValidationError) as error:
            settings.full_clean()
    assert error.value.message_dict["clock_overrides"] == [
        "unknown clock fields in overrides for PRESS_3M: ['duration_days']"
    ]


@pytest.mark.django_db
def test_portal_shows_a_sunday_press_deadline_as_to_do_before_the_friday(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        # given a defamation published on 30 Dec 2025: legal deadline Sunday 29 March 2026
        claim = claim_qualified(
            doctor=doctor_create(email=f"dimanche-{unique}@exemple.fr"),
            publication_date=date(2025, 12, 30),
            seen_date=date(2026, 1, 5),
            today=date(2026, 1, 5),
        )
        client = Client(HTTP_HOST=tenant_a.domain)
        client.force_login(claim.doctor.user)
        page = client.get(f"/portail/sinistres/{claim.pk}/").content.decode()
    # then the card gives the Friday to act by and keeps the legal date
    assert (
        "Prescription loi de 1881 (3 mois) : à accomplir avant le vendredi 27/03/2026 "
        "(échéance légale le 29/03/2026, jour non ouvré, non prorogée)"
    ) in page


@pytest.mark.django_db
def test_insurer_admin_sets_the_holiday_calendar_in_the_wagtail_settings(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        # given the insurer's admin (roles as onboarding applies them)
        roles_apply()
        admin = InsurerAdminFactory(email=f"admin-cal-{unique}@exemple.fr")
        site = Site.objects.get(is_default_site=True)
        client = Client(HTTP_HOST=tenant_a.domain)
        staff_login(client, admin)
        url = f"/admin/settings/cover/clocksettings/{site.pk}/"
        # when they choose Alsace-Moselle
        assert client.get(url).status_code == 200
        response = client.post(url, {"holiday_calendar": "alsace-moselle", "clock_overrides": "{}"})
        # then the setting is stored for the insurer's site
        assert response.status_code == 302
        assert ClockSettings.objects.get(site=site).holiday_calendar == "alsace-moselle"
        assert clock_configuration().holiday_calendar is H.ALSACE_MOSELLE
