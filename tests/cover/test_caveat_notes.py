"""Staff read « À vérifier » notes, never DOMAIN's editorial tags or its T_pub notation."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from cover.rules import Caveat, Confidence
from tests.conftest import staff_login
from tests.cover.claims_factories import claim_qualified, handler_create

pytestmark = pytest.mark.django_db

TAGS = re.compile(r"\[(TEXT|SEC|UNVERIFIED|CONFLICT|STALE)\]|T_pub")


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.EGIDE_CAPTURE_ALLOW = ["127.0.0.1"]


def test_each_confidence_tag_has_a_plain_french_note():
    notes = {tag: Caveat(tag, "texte").note for tag in Confidence}
    assert notes == {
        Confidence.TEXT: "",
        Confidence.SEC: "Source secondaire, à vérifier",
        Confidence.UNVERIFIED: "À vérifier",
        Confidence.CONFLICT: "À vérifier : les sources divergent",
        Confidence.STALE: "À vérifier : la règle a pu changer",
    }


def test_the_claim_page_shows_notes_not_tags(tenant_a):
    with tenant_context(tenant_a.insurer):
        # a qualified defamation claim: its press-law deadline carries « à vérifier » caveats
        claim = claim_qualified(urls=["http://127.0.0.1:9/avis/notes"])
        handler = handler_create()
    client = Client(HTTP_HOST=tenant_a.domain)
    with tenant_context(tenant_a.insurer):
        staff_login(client, handler)

    page = html.unescape(client.get(f"/admin/sinistres/{claim.pk}/").content.decode())

    assert TAGS.findall(page) == []
    assert "À vérifier" in page
