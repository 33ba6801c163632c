"""A letter template edited in the admin cannot read settings or secrets into the PDF."""

from __future__ import annotations

import datetime
import re
import subprocess

import pytest
from django_tenants.utils import tenant_context
from wagtail.models import Site

from cleanup.models import SearchSettings
from cover.claims.models import Letter, LetterTemplate
from cover.claims.services.common import ClaimActionRefused
from cover.claims.services.letters import letter_generate
from cover.letter_fields import LetterKind
from tests.cover.claims_factories import claim_with_proof, handler_create

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 3, 20)
SECRET = "cle-api-secrete-0451"  # noqa: S105


def _pdf_text(letter: Letter) -> str:
    with letter.file.open("rb") as fh:
        data = fh.read()
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", out.stdout.decode())


def _secret_stored() -> None:
    search = SearchSettings.for_site(Site.objects.get(is_default_site=True))
    search.api_key = SECRET
    search.save()


def _template(body: str) -> None:
    LetterTemplate.objects.update_or_create(
        kind="MISE_EN_DEMEURE", defaults={"title": "Mise en demeure", "body": body}
    )


def test_the_settings_tag_library_is_refused_with_a_french_reason(tenant_a):
    with tenant_context(tenant_a.insurer):
        _secret_stored()
        _template(
            "{% load wagtailsettings_tags %}{% get_settings use_default_site=True %}"
            "<p>{{ v.object_line }} {{ settings.cleanup.SearchSettings.api_key }}</p>"
        )
        claim = claim_with_proof(today=datetime.date(2025, 3, 12))
        letters_before = Letter.objects.count()

        with pytest.raises(ClaimActionRefused) as refused:
            letter_generate(
                claim=claim, kind=LetterKind.MISE_EN_DEMEURE, by=handler_create(), today=TODAY
            )

        assert refused.value.reasons[0].startswith("Modèle de courrier invalide")
        assert SECRET not in " ".join(refused.value.reasons)
        assert Letter.objects.count() == letters_before


def test_context_variables_of_the_site_are_not_available(tenant_a):
    with tenant_context(tenant_a.insurer):
        _secret_stored()
        _template(
            "<p>{{ v.object_line }} [{{ settings.cleanup.SearchSettings.api_key }}]"
            "[{{ request.user }}][{{ user.password }}][{{ perms }}]</p>"
        )
        claim = claim_with_proof(today=datetime.date(2025, 3, 12))

        letter = letter_generate(
            claim=claim, kind=LetterKind.MISE_EN_DEMEURE, by=handler_create(), today=TODAY
        )

        text = _pdf_text(letter)
        assert "MISE EN DEMEURE [][][][]" in text
        assert SECRET not in text and SECRET not in letter.html


def test_debug_tag_is_refused(tenant_a):
    with tenant_context(tenant_a.insurer):
        _template("<p>{{ v.object_line }}</p>{% debug %}")
        claim = claim_with_proof(today=datetime.date(2025, 3, 12))

        with pytest.raises(ClaimActionRefused):
            letter_generate(
                claim=claim, kind=LetterKind.MISE_EN_DEMEURE, by=handler_create(), today=TODAY
            )
