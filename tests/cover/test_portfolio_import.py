"""Portfolio CSV import: every bad line reported and nothing imported; a clean file imports all
and invites every doctor to claim their account."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import tenant_context

from cover.models import Doctor, Policy
from cover.services.portfolio import portfolio_import
from cover.tasks import QUEUE
from tests.cover.conftest import queue_drain
from tests.cover.factories import PlanFactory

HEADER = "numero_contrat;formule;date_effet;rpps;nom;prenom;email;specialite;ville"


def _rows(tag: str, count: int = 1000) -> list[str]:
    return [
        f"RCP-{tag}-{i:05d};serenite-{tag};01/03/2026;{20_000_000_000 + i:011d};Nom{i};Prénom{i};"
        f"medecin{i}.{tag}@exemple.fr;Médecine générale;Paris"
        for i in range(count)
    ]


@pytest.mark.django_db
def test_a_file_with_bad_rows_reports_exactly_those_lines_and_imports_nothing(tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        PlanFactory(slug=f"serenite-{unique}")
        rows = _rows(unique)
        rows[9] = rows[9].replace(f"{20_000_000_000 + 9:011d}", "123")  # line 11
        rows[499] = rows[499].replace(f"serenite-{unique}", "platine")  # line 501
        rows[700] = rows[700].replace("01/03/2026", "31/02/2026")  # line 702
        rows[998] = rows[998].replace(f"RCP-{unique}-00998", f"RCP-{unique}-00997")  # line 1000
        content = ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")
        users_before = get_user_model().objects.count()

        report = portfolio_import(content=content, dry_run=False)

        assert report.rows == 1000
        assert report.imported == 0
        assert report.errors == [
            (11, "numéro RPPS « 123 » invalide : 11 chiffres attendus"),
            (501, f"formule « platine » inconnue (formules : serenite-{unique})"),
            (702, "date d'effet « 31/02/2026 » invalide (JJ/MM/AAAA attendu)"),
            (1000, f"numéro de contrat « RCP-{unique}-00997 » en double (déjà ligne 999)"),
        ]
        assert get_user_model().objects.count() == users_before
        assert Policy.objects.filter(number__startswith=f"RCP-{unique}").count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_file_without_the_required_columns_is_refused_whole(tenant_a):
    with tenant_context(tenant_a.insurer):
        report = portfolio_import(content=b"rpps,nom\n10000000001,Martin\n", dry_run=True)

    assert report.errors == [
        (1, "Colonnes manquantes : numero_contrat, formule, date_effet, prenom, email, specialite")
    ]


def test_a_clean_file_imports_every_row_and_invites_every_doctor(committed_db, tenant_a, unique):
    with tenant_context(tenant_a.insurer):
        plan = PlanFactory(slug=f"serenite-{unique}")
    content = ("\n".join([HEADER, *_rows(unique)]) + "\n").encode("utf-8")
    try:
        with tenant_context(tenant_a.insurer):
            checked = portfolio_import(content=content, dry_run=True)
            assert (checked.errors, checked.imported) == ([], 0)
            assert Policy.objects.filter(number__startswith=f"RCP-{unique}").count() == 0

            report = portfolio_import(content=content, dry_run=False)

            assert (report.errors, report.imported) == ([], 1000)
            policies = Policy.objects.filter(number__startswith=f"RCP-{unique}")
            assert policies.count() == 1000
            assert set(policies.values_list("status", "source")) == {("active", "portfolio")}
            first = policies.select_related("doctor__user").get(number=f"RCP-{unique}-00000")
            assert (first.doctor.rpps, first.doctor.user.email, str(first.start_date)) == (
                "20000000000",
                f"medecin0.{unique}@exemple.fr",
                "2026-03-01",
            )
        queue_drain(QUEUE)
        invited = [m for m in mail.outbox if m.to[0].endswith(f".{unique}@exemple.fr")]
        assert len(invited) == 1000
        assert invited[0].subject == "Votre espace e-réputation Assureur test A"
        assert f"http://{tenant_a.domain}/compte/mot-de-passe/" in invited[0].body
    finally:
        with tenant_context(tenant_a.insurer):
            Policy.objects.filter(number__startswith=f"RCP-{unique}").delete()
            Doctor.objects.filter(user__email__endswith=f".{unique}@exemple.fr").delete()
            get_user_model().objects.filter(email__endswith=f".{unique}@exemple.fr").delete()
            for version in plan.versions.all():
                version.delete()
            plan.delete()
