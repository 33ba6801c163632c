"""Data of the stand-in: test cards, id formats, expandable fields, French labels, and the
parameters each endpoint accepts (anything else is refused, as Stripe does)."""

from __future__ import annotations

from pathlib import Path

FIXTURES_PATH = Path(__file__).with_name("stripe_fixtures.json")


STATE_FILE_NAME = "stripe_state.json"


PLATFORM = "platform"


# Stored URLs start with this marker and get the server's current public URL when rendered, so
# a restart on another port keeps every hosted link working.
URL_MARKER = "stripe-local://"


DEFAULT_API_VERSION = "2026-10-28.endive"


DEFAULT_RETRY_DELAYS = (1.0, 5.0, 25.0)


IDEMPOTENCY_CACHE_SIZE = 2000


PLATFORM_DISPLAY_NAME = "Égide"


# Test cards of Stripe's documentation, as data: number -> decline code (None pays).
TEST_CARDS: dict[str, str | None] = {
    "4242424242424242": None,
    "5555555555554444": None,
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000341": "card_declined",
}


# Cards that can be saved (Checkout setup mode) although every charge on them is declined.
SAVED_THEN_DECLINED = frozenset({"4000000000000341"})


ID_FORMATS: dict[str, tuple[str, int]] = {
    "customer": ("cus_", 14),
    "product": ("prod_", 14),
    "price": ("price_1", 23),
    "checkout.session": ("cs_test_a1", 56),
    "item": ("li_1", 23),
    "subscription": ("sub_1", 23),
    "subscription_item": ("si_", 14),
    "invoice": ("in_1", 23),
    "line_item": ("il_1", 23),
    "payment_intent": ("pi_1", 23),
    "setup_intent": ("seti_1", 23),
    "payment_method": ("pm_1", 23),
    "billing.meter": ("mtr_test_", 32),
    "event": ("evt_1", 23),
    "webhook_endpoint": ("we_1", 23),
    "webhook_secret": ("whsec_", 32),
    "account": ("acct_1", 15),
    "account_link": ("", 24),
    "request": ("req_", 14),
}


# Which string fields of which object can be expanded, and into which kind of object.
EXPANDABLE: dict[str, dict[str, str]] = {
    "checkout.session": {
        "customer": "customer",
        "subscription": "subscription",
        "invoice": "invoice",
        "setup_intent": "setup_intent",
    },
    "subscription": {
        "customer": "customer",
        "latest_invoice": "invoice",
        "default_payment_method": "payment_method",
    },
    "setup_intent": {"customer": "customer", "payment_method": "payment_method"},
    "payment_method": {"customer": "customer"},
    "invoice": {"customer": "customer", "subscription": "subscription"},
    "price": {"product": "product"},
    "product": {"default_price": "price"},
}


KIND_LABELS: dict[str, str] = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "checkout.session": "checkout.session",
    "subscription": "subscription",
    "invoice": "invoice",
    "billing.meter": "billing.meter",
    "event": "event",
    "webhook_endpoint": "webhook_endpoint",
    "account": "account",
    "setup_intent": "setupintent",
    "payment_method": "PaymentMethod",
}


INTERVALS_FR: dict[str, str] = {"day": "jour", "week": "semaine", "month": "mois", "year": "an"}


CURRENCY_SYMBOLS: dict[str, str] = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF"}


INVOICE_STATUS_FR: dict[str, str] = {
    "draft": "brouillon",
    "open": "à payer",
    "paid": "payée",
    "void": "annulée",
    "uncollectible": "irrécouvrable",
}


# Test card number -> (brand, funding country); every test card expires 12/2034 here.
CARD_BRANDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("visa", "US"),
    "5555555555554444": ("mastercard", "US"),
    "4000000000000002": ("visa", "US"),
    "4000000000009995": ("visa", "US"),
    "4000000000000341": ("visa", "US"),
}


# What the API answers for a declined card (402 ``card_error``), as Stripe words it.
DECLINE_ERRORS: dict[str, tuple[str, str]] = {
    "card_declined": ("generic_decline", "Your card was declined."),
    "insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}


DECLINE_MESSAGES_FR: dict[str, str] = {
    "card_declined": "Votre carte a été refusée.",
    "insufficient_funds": "Votre carte a été refusée : fonds insuffisants.",
}


LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})


CUSTOMER_PARAMS = frozenset(
    {
        "email",
        "name",
        "description",
        "metadata",
        "phone",
        "address",
        "preferred_locales",
        "invoice_settings",
        "tax_exempt",
        "shipping",
        "invoice_prefix",
        "expand",
    }
)


PRODUCT_PARAMS = frozenset(
    {
        "name",
        "id",
        "description",
        "metadata",
        "active",
        "images",
        "url",
        "statement_descriptor",
        "unit_label",
        "tax_code",
        "marketing_features",
        "shippable",
        "expand",
    }
)


PRICE_PARAMS = frozenset(
    {
        "currency",
        "unit_amount",
        "unit_amount_decimal",
        "product",
        "product_data",
        "recurring",
        "lookup_key",
        "transfer_lookup_key",
        "nickname",
        "metadata",
        "active",
        "tax_behavior",
        "billing_scheme",
        "expand",
    }
)


PRICE_UPDATE_PARAMS = frozenset(
    {"active", "lookup_key", "transfer_lookup_key", "nickname", "metadata", "expand"}
)


CHECKOUT_PARAMS = frozenset(
    {
        "mode",
        "line_items",
        "success_url",
        "cancel_url",
        "customer",
        "customer_email",
        "client_reference_id",
        "metadata",
        "subscription_data",
        "payment_intent_data",
        "locale",
        "allow_promotion_codes",
        "billing_address_collection",
        "automatic_tax",
        "customer_creation",
        "customer_update",
        "tax_id_collection",
        "payment_method_types",
        "expires_at",
        "consent_collection",
        "custom_text",
        "invoice_creation",
        "submit_type",
        "currency",
        "phone_number_collection",
        "payment_method_collection",
        "discounts",
        "saved_payment_method_options",
        "setup_intent_data",
        "expand",
    }
)


SETUP_INTENT_DATA_PARAMS = frozenset({"metadata", "description", "on_behalf_of"})


SUBSCRIPTION_DATA_PARAMS = frozenset(
    {"metadata", "description", "application_fee_percent", "billing_cycle_anchor"}
)


SUBSCRIPTION_UPDATE_PARAMS = frozenset(
    {
        "cancel_at_period_end",
        "cancel_at",
        "metadata",
        "description",
        "items",
        "proration_behavior",
        "cancellation_details",
        "default_payment_method",
        "expand",
    }
)


INVOICE_PAY_PARAMS = frozenset({"payment_method", "off_session", "expand"})


METER_PARAMS = frozenset(
    {
        "display_name",
        "event_name",
        "default_aggregation",
        "customer_mapping",
        "value_settings",
        "event_time_window",
        "expand",
    }
)


ACCOUNT_PARAMS = frozenset(
    {
        "type",
        "country",
        "email",
        "business_type",
        "business_profile",
        "metadata",
        "capabilities",
        "controller",
        "default_currency",
        "company",
        "individual",
        "tos_acceptance",
        "settings",
        "expand",
    }
)


WEBHOOK_ENDPOINT_PARAMS = frozenset(
    {"url", "enabled_events", "description", "metadata", "connect", "api_version", "expand"}
)
