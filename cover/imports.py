"""CSV import of an insurer's existing portfolio (doctors already insured for RCP).

Built on django-import-export: tablib reads the file, the resource checks every row and the
library collects each bad row with its number. The whole file is checked first (a dry run that
writes nothing); rows are imported only when none is bad, all in one transaction.

Columns (header line, comma or semicolon separated, UTF-8 or Windows-1252):
``numero_contrat, formule, date_effet, rpps, nom, prenom, email, specialite`` and optionally
``adresse, ville, telephone``. ``formule`` is a plan's identifier (slug) or name; ``date_effet``
is ``JJ/MM/AAAA`` or ``AAAA-MM-JJ``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from import_export import resources
from import_export.fields import Field

from cover.models import Doctor, Plan, PlanVersion, Policy
from cover.services.site import plan_version_current
from tenants.roles import INSURED_DOCTOR

REQUIRED_COLUMNS = (
    "numero_contrat",
    "formule",
    "date_effet",
    "rpps",
    "nom",
    "prenom",
    "email",
    "specialite",
)
OPTIONAL_COLUMNS = ("adresse", "ville", "telephone")
RPPS_RE = re.compile(r"^\d{11}$")
NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$")


class PortfolioError(Exception):
    """The import was refused; the message is French and safe to show."""


@dataclass
class PortfolioReport:
    """What an import found: every bad row with its line number, or what was imported."""

    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    imported: int = 0

    @property
    def clean(self) -> bool:
        return not self.errors


def _date_parse(value: str) -> datetime.date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


class PortfolioResource(resources.ModelResource):
    """One CSV row -> an active user account, a ``Doctor`` and an imported ``Policy``."""

    number = Field(attribute="number", column_name="numero_contrat")

    class Meta:
        model = Policy
        fields = ("number",)
        import_id_fields = ("number",)
        skip_diff = True
        use_transactions = True
        clean_model_instances = False

    def before_import(self, dataset, **kwargs) -> None:
        user_model = get_user_model()
        self.plans: dict[str, Plan] = {}
        for plan in Plan.objects.filter(live=True):
            self.plans[plan.slug.lower()] = plan
            self.plans.setdefault(plan.name.strip().lower(), plan)
        self.known_numbers = {n.lower() for n in Policy.objects.values_list("number", flat=True)}
        self.known_rpps = set(Doctor.objects.values_list("rpps", flat=True))
        self.known_emails = {
            e.lower() for e in user_model.objects.values_list("username", flat=True)
        }
        self.seen: dict[str, dict[str, int]] = {"number": {}, "rpps": {}, "email": {}}
        self.versions: dict[int, PlanVersion] = {}
        self.group = Group.objects.get(name=INSURED_DOCTOR)
        self.created_user_ids: list[int] = []

    def get_or_init_instance(self, instance_loader, row):
        return self.init_instance(row), True

    def import_instance(self, instance, row, **kwargs) -> None:
        line = int(kwargs["row_number"]) + 1  # line 1 is the header
        value = {
            column: str(row.get(column) or "").strip()
            for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
        }
        problems: list[str] = []
        # PostgreSQL cannot store a NUL character: refuse it here, in the dry run, by column.
        for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            if "\x00" in value[column]:
                problems.append(
                    _(
                        "colonne « %(column)s » : caractère nul interdit (enregistrez le fichier "
                        "en CSV UTF-8 depuis votre tableur)"
                    )
                    % {"column": column}
                )
                value[column] = value[column].replace("\x00", "")
        for column in REQUIRED_COLUMNS:
            if not value[column]:
                problems.append(_("colonne « %(column)s » vide") % {"column": column})
        number, rpps, email = value["numero_contrat"], value["rpps"], value["email"].lower()
        if number and not NUMBER_RE.match(number):
            problems.append(
                _(
                    "numéro de contrat « %(value)s » invalide (40 caractères, lettres, chiffres, - / _ .)"
                )
                % {"value": number}
            )
        elif number:
            problems += self._unique(
                "number",
                number.lower(),
                line,
                self.known_numbers,
                _("numéro de contrat « %(value)s »") % {"value": number},
            )
        if rpps and not RPPS_RE.match(rpps):
            problems.append(
                _("numéro RPPS « %(value)s » invalide : 11 chiffres attendus") % {"value": rpps}
            )
        elif rpps:
            problems += self._unique(
                "rpps", rpps, line, self.known_rpps, _("numéro RPPS %(value)s") % {"value": rpps}
            )
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(_("adresse e-mail « %(value)s » invalide") % {"value": email})
            else:
                problems += self._unique(
                    "email",
                    email,
                    line,
                    self.known_emails,
                    _("adresse e-mail %(value)s") % {"value": email},
                )
        plan = self.plans.get(value["formule"].lower()) if value["formule"] else None
        if value["formule"] and plan is None:
            problems.append(
                _("formule « %(value)s » inconnue (formules : %(known)s)")
                % {
                    "value": value["formule"],
                    "known": ", ".join(sorted({p.slug for p in self.plans.values()})) or "-",
                }
            )
        start = _date_parse(value["date_effet"]) if value["date_effet"] else None
        if value["date_effet"] and start is None:
            problems.append(
                _("date d'effet « %(value)s » invalide (JJ/MM/AAAA attendu)")
                % {"value": value["date_effet"]}
            )
        if problems:
            raise ValidationError({NON_FIELD_ERRORS: problems})
        instance.number = number
        instance._portfolio = {**value, "email": email, "plan": plan, "start": start}

    def _unique(self, key: str, value: str, line: int, known: set[str], label: str) -> list[str]:
        if value in known:
            return [_("%(label)s déjà présent chez l'assureur") % {"label": label}]
        first = self.seen[key].setdefault(value, line)
        if first != line:
            return [
                _("%(label)s en double (déjà ligne %(line)d)") % {"label": label, "line": first}
            ]
        return []

    def save_instance(self, instance, is_create, row, **kwargs) -> None:
        if self._is_dry_run(kwargs):
            return
        data: dict[str, Any] = instance._portfolio
        user_model = get_user_model()
        user = user_model(
            username=data["email"],
            email=data["email"],
            first_name=data["prenom"],
            last_name=data["nom"],
            is_staff=False,
            is_active=True,
        )
        user.set_unusable_password()
        user.save()
        user.groups.add(self.group)
        doctor = Doctor.objects.create(
            user=user,
            rpps=data["rpps"],
            specialty=data["specialite"],
            practice_address=data["adresse"],
            city=data["ville"],
            phone=data["telephone"],
        )
        plan: Plan = data["plan"]
        if plan.pk not in self.versions:
            self.versions[plan.pk] = plan_version_current(plan=plan)
        instance.doctor = doctor
        instance.plan_version = self.versions[plan.pk]
        instance.status = Policy.Status.ACTIVE
        instance.start_date = data["start"]
        instance.source = Policy.Source.PORTFOLIO
        instance.save()
        self.created_user_ids.append(user.pk)


def portfolio_dataset(content: bytes | str) -> tablib.Dataset:
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("cp1252")
    else:
        text = content.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    dataset = tablib.Dataset()
    dataset.load(text, format="csv", delimiter=delimiter)
    dataset.headers = [str(h or "").strip().lower() for h in (dataset.headers or [])]
    return dataset


def portfolio_check(*, content: bytes | str) -> tuple[PortfolioReport, tablib.Dataset]:
    """Check every row without writing anything; report each bad line with its reasons."""
    report = PortfolioReport()
    try:
        dataset = portfolio_dataset(content)
    except Exception:  # noqa: BLE001 - tablib raises many kinds on garbage input
        report.errors.append(
            (1, _("Fichier illisible : un CSV avec une ligne d'en-tête est attendu."))
        )
        return report, tablib.Dataset()
    missing = [c for c in REQUIRED_COLUMNS if c not in (dataset.headers or [])]
    if missing:
        report.errors.append(
            (1, _("Colonnes manquantes : %(columns)s") % {"columns": ", ".join(missing)})
        )
        return report, dataset
    report.rows = len(dataset)
    if not report.rows:
        report.errors.append((1, _("Le fichier ne contient aucune ligne à importer.")))
        return report, dataset
    result = PortfolioResource().import_data(dataset, dry_run=True, use_transactions=True)
    for invalid in result.invalid_rows:
        messages = [str(m) for values in invalid.error_dict.values() for m in values]
        report.errors.append((invalid.number + 1, "; ".join(messages)))
    for number, errors in result.row_errors():
        report.errors.append((number + 1, "; ".join(str(e.error) for e in errors)))
    report.errors.sort()
    return report, dataset


def portfolio_load(*, dataset: tablib.Dataset) -> list[int]:
    """Import a checked dataset; any surprise (a concurrent change) rolls everything back."""
    resource = PortfolioResource()
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=False, use_transactions=True)
        if result.has_errors() or result.has_validation_errors():
            raise PortfolioError(
                _("L'import a été annulé : le portefeuille a changé pendant l'import. Relancez-le.")
            )
    return resource.created_user_ids
