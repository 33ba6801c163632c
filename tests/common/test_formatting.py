"""Money and dates read the same French everywhere: letters, certificates, notes, admin pages."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from common.formatting import NBSP, NNBSP, date_fr, date_short, euros


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, f"0,00{NBSP}€"),
        (5, f"0,05{NBSP}€"),
        (990, f"9,90{NBSP}€"),
        (34_900, f"349,00{NBSP}€"),
        (123_450, f"1{NNBSP}234,50{NBSP}€"),
        (100_000_000, f"1{NNBSP}000{NNBSP}000,00{NBSP}€"),
        (-990, f"-9,90{NBSP}€"),
        (-150_000, f"-1{NNBSP}500,00{NBSP}€"),
        (None, ""),
    ],
)
def test_an_amount_in_cents_reads_in_french(cents, text):
    assert euros(cents) == text


def test_dates_read_in_french_whatever_language_is_active():
    day = datetime.date(2026, 3, 1)
    with translation.override("en"):
        assert date_fr(day) == "1 mars 2026"
        assert date_short(day) == "01/03/2026"
    assert date_fr(datetime.date(2026, 12, 12)) == "12 décembre 2026"
    assert (date_fr(None), date_short(None)) == ("", "")


def test_the_template_filters_give_the_same_text():
    template = Template(
        "{% load egide_format %}{{ a|euros }}|{{ none|euros }}|{{ empty|euros }}|"
        "{{ day|date_fr }}|{{ day|date_short }}"
    )
    text = template.render(
        Context({"a": 123_450, "none": None, "empty": "", "day": datetime.date(2026, 3, 12)})
    )
    assert text == f"1{NNBSP}234,50{NBSP}€|||12 mars 2026|12/03/2026"
