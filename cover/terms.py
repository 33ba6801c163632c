"""The guarantee terms a policy was sold with, as an immutable value (DOMAIN.md §8).

Pure Python (no Django import): the plan's structured values and the French wording shown to
doctors are derived from one another here, so the text a doctor reads (« 5 jours ouvrés ») is
always the duration the insurer-declaration clock counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from cover.rules import Duration, DurationUnit, declaration_delay_duration, gettext_noop

_ = gettext_noop

TERM_FIELDS = (
    "monitoring_frequency",
    "max_keywords",
    "max_watched_pages",
    "removal_requests_per_year",
    "positive_content_campaigns_per_year",
    "per_claim_ceiling_cents",
    "annual_ceiling_cents",
    "cleanup_subceiling_cents",
    "deductible_cents",
    "intervention_threshold_cents",
    "waiting_period_days",
    "anteriority",
    "anteriority_years",
    "declaration_delay",
    "territory",
    "provider_obligation",
    "free_choice_of_lawyer",
    "exclusions",
    "price_cents",
    "billing_period",
    "declaration_delay_amount",
    "declaration_delay_unit",
    "territory_scope",
    "lawyer_subceiling_cents",
    "constat_subceiling_cents",
)

# Units a plan's declaration delay may use (DOMAIN §4.6 INSURER_DECLARATION: « 5 jours
# ouvrés » is often quoted; some contracts count calendar days or months).
DECLARATION_DELAY_UNITS: Mapping[str, str] = {
    DurationUnit.DAYS.value: _("jours"),
    DurationUnit.WORKING_DAYS.value: _("jours ouvrés"),
    DurationUnit.MONTHS.value: _("mois"),
}

# The wording of a delay in the contract's French (stored in the frozen terms as written).
_DELAY_WORDS: Mapping[str, tuple[str, str]] = {
    DurationUnit.DAYS.value: ("jour", "jours"),
    DurationUnit.WORKING_DAYS.value: ("jour ouvré", "jours ouvrés"),
    DurationUnit.MONTHS.value: ("mois", "mois"),
}

# Where the guarantee applies, judged on the doctor's place of practice (DOMAIN §8
# « territorialite »). Codes are stored; labels are the contract's French wording.
TERRITORY_FRANCE_METROPOLE = "france_metropole"
TERRITORY_FRANCE = "france"
TERRITORY_EU = "eu"
TERRITORY_WORLD = "world"
TERRITORY_LABELS: Mapping[str, str] = {
    TERRITORY_FRANCE_METROPOLE: _("France métropolitaine"),
    TERRITORY_FRANCE: _("France"),
    TERRITORY_EU: _("Union européenne"),
    TERRITORY_WORLD: _("Monde entier"),
}
_TERRITORY_WORDS: Mapping[str, str] = {
    "france metropolitaine": TERRITORY_FRANCE_METROPOLE,
    "metropole": TERRITORY_FRANCE_METROPOLE,
    "france": TERRITORY_FRANCE,
    "france et outre-mer": TERRITORY_FRANCE,
    "france entiere": TERRITORY_FRANCE,
    "union europeenne": TERRITORY_EU,
    "ue": TERRITORY_EU,
    "europe": TERRITORY_EU,
    "monde": TERRITORY_WORLD,
    "monde entier": TERRITORY_WORLD,
}


def declaration_delay_text(*, amount: int | None, unit: str) -> str:
    """« 5 jours ouvrés », « 1 mois »; empty when the plan has no structured delay."""
    if amount is None or unit not in _DELAY_WORDS:
        return ""
    singular, plural = _DELAY_WORDS[unit]
    return f"{amount} {singular if amount == 1 else plural}"


def declaration_delay_parse(text: str) -> tuple[int, str] | None:
    """Read a contract's wording into (amount, unit) with the clock's parser; years become
    months (the plan's units are days, working days and months). ``None`` if unreadable."""
    duration = declaration_delay_duration(text)
    if duration is None or duration.amount < 1:
        return None
    if duration.unit is DurationUnit.YEARS:
        return duration.amount * 12, DurationUnit.MONTHS.value
    return duration.amount, duration.unit.value


def territory_scope_parse(text: str) -> str | None:
    """« France », « Union européenne »… into a territory code; ``None`` if unreadable."""
    plain = " ".join((text or "").lower().split()).strip(" .")
    for accented, bare in (("é", "e"), ("è", "e"), ("ê", "e"), ("î", "i"), ("ô", "o")):
        plain = plain.replace(accented, bare)
    return _TERRITORY_WORDS.get(plain)


@dataclass(frozen=True)
class Terms:
    plan_name: str
    monitoring_frequency: str
    max_keywords: int
    max_watched_pages: int
    removal_requests_per_year: int
    positive_content_campaigns_per_year: int
    per_claim_ceiling_cents: int | None
    annual_ceiling_cents: int | None
    cleanup_subceiling_cents: int | None
    deductible_cents: int
    intervention_threshold_cents: int
    waiting_period_days: int
    anteriority: str
    anteriority_years: int
    declaration_delay: str
    territory: str
    provider_obligation: str
    free_choice_of_lawyer: bool
    exclusions: str
    price_cents: int
    billing_period: str
    # Structured terms (added later: versions frozen before them are read by ``from_json``).
    declaration_delay_amount: int | None = None
    declaration_delay_unit: str = ""
    territory_scope: str = ""
    lawyer_subceiling_cents: int | None = None
    constat_subceiling_cents: int | None = None

    @property
    def declaration_duration(self) -> Duration | None:
        """The contract's delay for the insurer-declaration clock, ``None`` if not structured."""
        if self.declaration_delay_amount is None or not self.declaration_delay_unit:
            return None
        return Duration(self.declaration_delay_amount, DurationUnit(self.declaration_delay_unit))

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Terms:
        """Terms frozen before the structured fields existed are read with the same parsers
        the plan migration used: the text stays as sold, the structure is derived from it."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "declaration_delay_amount" not in values:
            parsed = declaration_delay_parse(values.get("declaration_delay", ""))
            if parsed is not None:
                values["declaration_delay_amount"], values["declaration_delay_unit"] = parsed
        if "territory_scope" not in values:
            values["territory_scope"] = territory_scope_parse(values.get("territory", "")) or ""
        return cls(**values)
