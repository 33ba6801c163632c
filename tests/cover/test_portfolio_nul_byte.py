"""A NUL byte in the portfolio CSV is refused in the dry run, with its line, and never at import."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from cover.models import Policy
from cover.services.portfolio import portfolio_import
from tests.cover.factories import PlanFactory

HEADER = "numero_contrat;formule;date_effet;rpps;nom;prenom;email;specialite;ville"


def _row(tag: str, i: int, *, last_name: str = "Martin", city: str = "Paris") -> str:
    return (
        f"RCP-{tag}-{i:05d};serenite-{tag};01/03/2026;{30_000_000_000 + i:011d};{last_name};"
        f"Claire;medecin{i}.{tag}@exemple.fr;Médecine générale;{city}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_nul_byte_is_reported_on_its_line_and_nothing_is_imported(tenant_a, unique, dry_run):
    with tenant_context(tenant_a.insurer):
        PlanFactory(slug=f"serenite-{unique}")
        rows = [
            _row(unique, 0),
            _row(unique, 1, last_name="Mar\x00tin"),
            _row(unique, 2, city="Pa\x00ris"),
        ]
        content = ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")
        users_before = get_user_model().objects.count()

        report = portfolio_import(content=content, dry_run=dry_run)

        nul = "caractère nul interdit (enregistrez le fichier en CSV UTF-8 depuis votre tableur)"
        assert report.errors == [
            (3, f"colonne « nom » : {nul}"),
            (4, f"colonne « ville » : {nul}"),
        ]
        assert report.imported == 0
        assert get_user_model().objects.count() == users_before
        assert not Policy.objects.filter(number__startswith=f"RCP-{unique}").exists()
