"""The plan's terms applied to a claim (DOMAIN §8): who is covered, and what a fee costs the
guarantee. Pure functions over plain values (dates, cents, ``Terms``), so each term can be
tested without a database; the services feed them and record their verdict.

Decisions where the contracts the sources quote are silent (DOMAIN §8 lists the parameters, not
their reading):

- **Stake** (« montant en jeu ») for the intervention threshold: the total of the fees recorded
  on the claim (constat, lawyer, cleanup, other), before deductible and ceilings. An
  e-reputation claim has no principal amount; what is at stake for the insured is what the
  defence costs. While that total stays below the threshold nothing is paid; the fee that
  reaches it makes every fee of the claim payable.
- **Sub-ceilings** apply per claim and per service, inside the per-claim and annual ceilings.
- **Territory** is judged on the doctor's place of practice (postal code of the practice
  address). Where the content is hosted cannot be established from here and is not checked.
- **Waiting period**: a claim is excluded when the content was discovered, or published after
  the policy start, during the waiting period (the fact arose during it).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from common.formatting import date_short, euros
from cover.deadlines import date_add_months
from cover.terms import (
    TERRITORY_EU,
    TERRITORY_FRANCE,
    TERRITORY_FRANCE_METROPOLE,
    TERRITORY_LABELS,
    TERRITORY_WORLD,
    Terms,
)

# Anteriority codes (``cover.models.Anteriority``), repeated here to keep this module pure.
AFTER_SUBSCRIPTION = "after_subscription"
KNOWN_FACTS_EXCLUDED = "known_facts_excluded"
RETROACTIVE_YEARS = "retroactive_years"

# --------------------------------------------------------------------------------------------
# Services a fee belongs to, and the plan field holding each service's sub-ceiling
# --------------------------------------------------------------------------------------------

SERVICE_CONSTAT = "constat"
SERVICE_LAWYER = "avocat"
SERVICE_CLEANUP = "nettoyage"
SERVICE_OTHER = "autre"
SERVICE_LABELS: Mapping[str, str] = {
    SERVICE_CONSTAT: gettext_noop("Constat de commissaire de justice"),
    SERVICE_LAWYER: gettext_noop("Honoraires d'avocat et frais de procédure"),
    SERVICE_CLEANUP: gettext_noop("Nettoyage et déréférencement"),
    SERVICE_OTHER: gettext_noop("Autres frais"),
}
SERVICE_SUBCEILING_FIELDS: Mapping[str, str] = {
    SERVICE_CONSTAT: "constat_subceiling_cents",
    SERVICE_LAWYER: "lawyer_subceiling_cents",
    SERVICE_CLEANUP: "cleanup_subceiling_cents",
}
# The service a fee belongs to when only its provider is known (``CostKind``).
SERVICE_BY_COST_KIND: Mapping[str, str] = {
    "commissaire": SERVICE_CONSTAT,
    "avocat": SERVICE_LAWYER,
    "other": SERVICE_OTHER,
}


# --------------------------------------------------------------------------------------------
# Cover check: refusals
# --------------------------------------------------------------------------------------------


def waiting_period_refusal(
    *,
    policy_start: datetime.date | None,
    waiting_days: int,
    published: datetime.date,
    seen: datetime.date,
) -> str | None:
    if policy_start is None or not waiting_days:
        return None
    end = policy_start + datetime.timedelta(days=waiting_days)
    if seen < end:
        return _(
            "Le contenu a été découvert le %(seen)s, pendant le délai de carence de "
            "%(days)s jours (fin le %(end)s)."
        ) % {"seen": date_short(seen), "days": waiting_days, "end": date_short(end)}
    if policy_start <= published < end:
        return _(
            "Le contenu a été publié le %(published)s, pendant le délai de carence de "
            "%(days)s jours (fin le %(end)s)."
        ) % {"published": date_short(published), "days": waiting_days, "end": date_short(end)}
    return None


def anteriority_refusal(
    *,
    policy_start: datetime.date | None,
    anteriority: str,
    years: int,
    published: datetime.date,
    seen: datetime.date,
) -> str | None:
    if policy_start is None:
        return None
    if anteriority == AFTER_SUBSCRIPTION and published < policy_start:
        return _(
            "Le contenu a été publié le %(published)s, avant la date d'effet du contrat "
            "(%(start)s) : la garantie couvre les publications postérieures à la souscription."
        ) % {"published": date_short(published), "start": date_short(policy_start)}
    if anteriority == KNOWN_FACTS_EXCLUDED and seen < policy_start:
        return _(
            "Le contenu était connu le %(seen)s, avant la date d'effet du contrat (%(start)s) : "
            "les faits connus à la souscription sont exclus."
        ) % {"seen": date_short(seen), "start": date_short(policy_start)}
    if anteriority == RETROACTIVE_YEARS:
        limit = date_add_months(start=policy_start, months=-12 * years)
        if published < limit:
            return ngettext(
                "Le contenu a été publié le %(published)s, avant la période de rétroactivité "
                "du contrat (%(years)s an, soit à partir du %(limit)s).",
                "Le contenu a été publié le %(published)s, avant la période de rétroactivité "
                "du contrat (%(years)s ans, soit à partir du %(limit)s).",
                years,
            ) % {"published": date_short(published), "years": years, "limit": date_short(limit)}
    return None


# --------------------------------------------------------------------------------------------
# Cover check: the clause a refusal applies
# --------------------------------------------------------------------------------------------

CLAUSE_NO_POLICY = "NO_POLICY"
CLAUSE_WAITING_PERIOD = "WAITING_PERIOD"
CLAUSE_ANTERIORITY = "ANTERIORITY"
CLAUSE_TERRITORY = "TERRITORY"
CLAUSE_PER_CLAIM_CEILING = "PER_CLAIM_CEILING"
CLAUSE_ANNUAL_CEILING = "ANNUAL_CEILING"
CLAUSE_EXCLUSION = "EXCLUSION"  # one code per line of the plan's exclusions: EXCLUSION:<n>
CLAUSE_OTHER = "OTHER"


@dataclass(frozen=True)
class RefusalClause:
    """A term of the plan a refusal can rest on, worded as the doctor reads it."""

    code: str
    text: str


def refusal_clauses(*, terms: Terms | None) -> tuple[RefusalClause, ...]:
    """Every term of the plan that can exclude a claim, in the contract's order. Without a
    policy in force only the absence of a contract can be cited."""
    clauses = [
        RefusalClause(
            CLAUSE_NO_POLICY,
            _("Contrat en vigueur : la garantie s'applique aux dossiers déclarés pendant que le "
              "contrat est actif."),
        )
    ]  # fmt: skip
    if terms is None:
        return tuple(clauses)
    if terms.waiting_period_days:
        clauses.append(
            RefusalClause(
                CLAUSE_WAITING_PERIOD,
                _("Délai de carence de %(days)s jours à compter de la date d'effet du contrat.")
                % {"days": terms.waiting_period_days},
            )
        )
    if terms.anteriority == AFTER_SUBSCRIPTION:
        text = _(
            "Antériorité : seules les publications postérieures à la date d'effet du contrat "
            "sont garanties."
        )
    elif terms.anteriority == KNOWN_FACTS_EXCLUDED:
        text = _("Antériorité : les faits connus avant la date d'effet du contrat sont exclus.")
    elif terms.anteriority == RETROACTIVE_YEARS:
        text = ngettext(
            "Rétroactivité : les publications de l'année précédant la date d'effet du contrat "
            "sont garanties, pas les plus anciennes.",
            "Rétroactivité : les publications des %(years)s années précédant la date d'effet du "
            "contrat sont garanties, pas les plus anciennes.",
            terms.anteriority_years,
        ) % {"years": terms.anteriority_years}
    else:
        text = ""
    if text:
        clauses.append(RefusalClause(CLAUSE_ANTERIORITY, text))
    if terms.territory_scope in TERRITORY_LABELS and terms.territory_scope != TERRITORY_WORLD:
        clauses.append(
            RefusalClause(
                CLAUSE_TERRITORY,
                _("Territorialité : %(territory)s, jugée sur le lieu d'exercice du médecin.")
                % {"territory": _(TERRITORY_LABELS[terms.territory_scope])},
            )
        )
    if terms.per_claim_ceiling_cents is not None:
        clauses.append(
            RefusalClause(
                CLAUSE_PER_CLAIM_CEILING,
                _("Plafond par sinistre : %(amount)s.")
                % {"amount": euros(terms.per_claim_ceiling_cents)},
            )
        )
    if terms.annual_ceiling_cents is not None:
        clauses.append(
            RefusalClause(
                CLAUSE_ANNUAL_CEILING,
                _("Plafond annuel : %(amount)s.") % {"amount": euros(terms.annual_ceiling_cents)},
            )
        )
    lines = [line.strip(" -•\t") for line in (terms.exclusions or "").splitlines()]
    for number, line in enumerate((line for line in lines if line), start=1):
        clauses.append(
            RefusalClause(
                f"{CLAUSE_EXCLUSION}:{number}", _("Exclusion : %(text)s") % {"text": line}
            )
        )
    return tuple(clauses)


# Zones of a French postal code. DROM are outermost regions of the EU; the other overseas
# collectivities are not; 980xx is Monaco.
ZONE_METROPOLE = "metropole"
ZONE_OVERSEAS_EU = "outre-mer (région ultrapériphérique)"
ZONE_OVERSEAS_OTHER = "outre-mer (collectivité hors Union européenne)"
ZONE_ABROAD = "hors de France"
_ZONE_LABELS: Mapping[str, str] = {
    ZONE_METROPOLE: gettext_noop("France métropolitaine"),
    ZONE_OVERSEAS_EU: gettext_noop("outre-mer"),
    ZONE_OVERSEAS_OTHER: gettext_noop("collectivité d'outre-mer hors Union européenne"),
    ZONE_ABROAD: gettext_noop("hors de France"),
}
_TERRITORY_ZONES: Mapping[str, frozenset[str]] = {
    TERRITORY_FRANCE_METROPOLE: frozenset({ZONE_METROPOLE}),
    TERRITORY_FRANCE: frozenset({ZONE_METROPOLE, ZONE_OVERSEAS_EU, ZONE_OVERSEAS_OTHER}),
    TERRITORY_EU: frozenset({ZONE_METROPOLE, ZONE_OVERSEAS_EU}),
}
_POSTAL_CODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def practice_postal_code(*, address: str, city: str) -> str | None:
    found = _POSTAL_CODE.findall(f"{address} {city}")
    return found[-1] if found else None


def postal_code_zone(code: str) -> str | None:
    if code.startswith("980"):
        return ZONE_ABROAD
    if code[:3] in {"971", "972", "973", "974", "976"}:
        return ZONE_OVERSEAS_EU
    if code[:2] in {"97", "98"}:
        return ZONE_OVERSEAS_OTHER
    if "01" <= code[:2] <= "95":
        return ZONE_METROPOLE
    return None


def territory_check(*, scope: str, address: str, city: str) -> tuple[str | None, str | None]:
    """(refusal, note): a refusal when the practice is outside the plan's territory, a note
    when the address gives no postal code to judge it by."""
    if not scope or scope == TERRITORY_WORLD or scope not in _TERRITORY_ZONES:
        return None, None
    territory = _(TERRITORY_LABELS[scope])
    code = practice_postal_code(address=address, city=city)
    zone = postal_code_zone(code) if code else None
    if zone is None:
        return None, _(
            "Territorialité du contrat (%(territory)s) : indiquez le code postal de votre "
            "cabinet pour qu'elle puisse être vérifiée."
        ) % {"territory": territory}
    if zone not in _TERRITORY_ZONES[scope]:
        return _(
            "Le cabinet du médecin (code postal %(code)s, %(zone)s) est hors de la "
            "territorialité du contrat (%(territory)s)."
        ) % {"code": code, "zone": _(_ZONE_LABELS[zone]), "territory": territory}, None
    return None, None


def threshold_note(*, terms: Terms) -> str | None:
    if not terms.intervention_threshold_cents:
        return None
    return _(
        "Seuil d'intervention : les frais ne sont pris en charge qu'à partir de %(amount)s de "
        "frais engagés sur le dossier."
    ) % {"amount": euros(terms.intervention_threshold_cents)}


# --------------------------------------------------------------------------------------------
# Costs: what the guarantee pays on one fee
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostUsage:
    """What the claim and the policy year had used before the fee being allocated."""

    stake_cents: int  # every fee of the claim, this one included (the threshold's stake)
    deductible_used_cents: int
    claim_covered_cents: int
    service_covered_cents: int
    year_covered_cents: int


@dataclass(frozen=True)
class CostAllocation:
    covered_cents: int
    deductible_cents: int
    notes: tuple[str, ...]


def service_subceiling(*, terms: Terms, service: str) -> int | None:
    field = SERVICE_SUBCEILING_FIELDS.get(service)
    return getattr(terms, field) if field else None


def cost_allocate(
    *, amount_cents: int, service: str, terms: Terms, usage: CostUsage
) -> CostAllocation:
    """Threshold first (nothing paid below it), then the deductible (once per claim), then the
    lowest of what is left of the service's sub-ceiling, the per-claim and the annual ceiling.
    Each limit that holds part of the fee back gives a warning with the amount left to pay."""
    threshold = terms.intervention_threshold_cents
    if threshold and usage.stake_cents < threshold:
        return CostAllocation(
            0,
            0,
            (
                _(
                    "Frais engagés sur le dossier : %(stake)s, sous le seuil d'intervention de "
                    "%(threshold)s : rien n'est pris en charge tant que ce seuil n'est pas "
                    "atteint."
                )
                % {"stake": euros(usage.stake_cents), "threshold": euros(threshold)},
            ),
        )
    deductible = min(amount_cents, max(0, terms.deductible_cents - usage.deductible_used_cents))
    payable = amount_cents - deductible
    limits: list[tuple[int, str]] = []
    subceiling = service_subceiling(terms=terms, service=service)
    label = _(SERVICE_LABELS.get(service, SERVICE_LABELS[SERVICE_OTHER]))
    if subceiling is not None:
        left = max(0, subceiling - usage.service_covered_cents)
        if subceiling == 0:
            message = _("La formule ne prend pas en charge le service « %(service)s ».") % {
                "service": label
            }
        else:
            message = _(
                "Sous-plafond « %(service)s » de %(ceiling)s par sinistre : %(left)s restaient "
                "disponibles."
            ) % {"service": label, "ceiling": euros(subceiling), "left": euros(left)}
        limits.append((left, message))
    if terms.per_claim_ceiling_cents is not None:
        left = max(0, terms.per_claim_ceiling_cents - usage.claim_covered_cents)
        limits.append(
            (
                left,
                _("Plafond par sinistre de %(ceiling)s : %(left)s restaient disponibles.")
                % {"ceiling": euros(terms.per_claim_ceiling_cents), "left": euros(left)},
            )
        )
    if terms.annual_ceiling_cents is not None:
        left = max(0, terms.annual_ceiling_cents - usage.year_covered_cents)
        limits.append(
            (
                left,
                _("Plafond annuel de %(ceiling)s : %(left)s restaient disponibles.")
                % {"ceiling": euros(terms.annual_ceiling_cents), "left": euros(left)},
            )
        )
    covered = min([payable, *(left for left, _message in limits)])
    notes = [message for left, message in limits if left < payable]
    if notes:
        notes.append(
            _("%(excess)s restent à la charge de l'assuré au-delà de la franchise.")
            % {"excess": euros(payable - covered)}
        )
    return CostAllocation(covered, deductible, tuple(notes))


@dataclass(frozen=True)
class SubceilingUse:
    service: str
    label: str
    ceiling_cents: int
    covered_cents: int
    remaining_cents: int


def subceiling_uses(
    *, terms: Terms, covered_by_service: Mapping[str, int]
) -> tuple[SubceilingUse, ...]:
    """Each service sub-ceiling of the plan with what the claim has used of it."""
    uses = []
    for service in SERVICE_SUBCEILING_FIELDS:
        ceiling = service_subceiling(terms=terms, service=service)
        if ceiling is None:
            continue
        used = covered_by_service.get(service, 0)
        uses.append(
            SubceilingUse(
                service=service,
                label=_(SERVICE_LABELS[service]),
                ceiling_cents=ceiling,
                covered_cents=used,
                remaining_cents=max(0, ceiling - used),
            )
        )
    return tuple(uses)
