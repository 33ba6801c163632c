"""The guarantee terms a policy was sold with, as an immutable value (DOMAIN.md §8)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

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
)


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

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Terms:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
