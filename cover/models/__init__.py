"""The cover app's models, one module per purpose; Django and the rest of the code import them
from ``cover.models``.

- ``pages``: the insurer's public site (Wagtail pages);
- ``site_settings``: branding, claims clocks, legal identity, opening, moderation, cancellation;
- ``plans``: the offer (plans, their frozen versions and general conditions);
- ``policies``: doctors, policies, invoices, portal onboarding.
"""

from cover.models.pages import (
    FaqItemBlock,
    FAQPage,
    GuideIndexPage,
    GuidePage,
    HomePage,
    LegalContent,
    LegalPage,
    OfferPage,
)
from cover.models.plans import (
    Anteriority,
    BillingPeriod,
    FrozenDocument,
    MonitoringFrequency,
    Plan,
    PlanVersion,
    ProviderObligation,
)
from cover.models.policies import Doctor, Policy, PolicyInvoice, PortalOnboarding
from cover.models.site_settings import (
    ACPR_ADDRESS,
    Branding,
    CancellationSettings,
    ClockSettings,
    InsurerLegalInfo,
    ModerationSettings,
    SiteOpening,
    SiteStyle,
    _validate_clock_overrides,
    colour_validator,
)

__all__ = [
    "ACPR_ADDRESS",
    "Anteriority",
    "BillingPeriod",
    "Branding",
    "CancellationSettings",
    "ClockSettings",
    "Doctor",
    "FAQPage",
    "FaqItemBlock",
    "FrozenDocument",
    "GuideIndexPage",
    "GuidePage",
    "HomePage",
    "InsurerLegalInfo",
    "LegalContent",
    "LegalPage",
    "ModerationSettings",
    "MonitoringFrequency",
    "OfferPage",
    "Plan",
    "PlanVersion",
    "Policy",
    "PolicyInvoice",
    "PortalOnboarding",
    "ProviderObligation",
    "SiteOpening",
    "SiteStyle",
    # Referenced by migrations (validators are serialised by their import path).
    "_validate_clock_overrides",
    "colour_validator",
]
