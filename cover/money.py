"""Money as the insurer's staff type and read it: French euros in the forms and listings, cents
in the database.

Why: every amount is stored in euro cents (``*_cents`` fields, Stripe's unit), but an insurer
admin must never type « 990 » for « 9,90 € ». The conversion happens here, in the form layer
only, so models, services and Stripe keep their cents. Display goes through the one formatter,
``common.formatting.euros``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import escape, format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail.admin.compare import FieldComparison, TextDiff, register_comparison_class
from wagtail.admin.ui.tables import Column

from common.formatting import NBSP, euros

# Spaces people type or paste as thousands separators: space, no-break, narrow no-break, thin.
_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_CURRENCY = re.compile(r"(€|eur(?:os?)?)$", re.IGNORECASE)
# « 1500 », « 1500,5 », « 1500,50 », « 9.90 »
_PLAIN = re.compile(r"^(?P<units>\d+)(?:[.,](?P<cents>\d*))?$")
# « 1.500,00 » (dots as thousands separators, comma for cents)
_DOTTED = re.compile(r"^(?P<units>\d{1,3}(?:\.\d{3})+)(?:,(?P<cents>\d*))?$")


def euros_parse(text: str) -> int:
    """Cents from an amount typed in French: « 9,90 », « 1 500 », « 1500,00 € », « 1.500,00 ».

    Raises ``ValidationError`` with a French message on anything else (letters, a negative
    amount, more than two decimals)."""
    raw = _SPACES.sub("", str(text)).strip()
    raw = _CURRENCY.sub("", raw)
    if raw.startswith("-"):
        raise ValidationError(_("Le montant ne peut pas être négatif."), code="negative")
    match = _DOTTED.match(raw) or _PLAIN.match(raw)
    if match is None:
        raise ValidationError(
            _("Saisissez un montant en euros, par exemple « 9,90 » ou « 1 500 »."),
            code="invalid",
        )
    cents = match.group("cents") or ""
    if len(cents) > 2:
        raise ValidationError(
            _("Un montant en euros a au plus deux décimales (les centimes)."), code="decimals"
        )
    units = match.group("units").replace(".", "")
    try:
        amount = Decimal(units) + Decimal(cents.ljust(2, "0") or "0") / 100
    except InvalidOperation as exc:  # pragma: no cover - the patterns only let digits through
        raise ValidationError(_("Montant illisible."), code="invalid") from exc
    return int(amount * 100)


def euros_input(cents: int) -> str:
    """The value put back in a money input: « 9,90 », « 1 500,00 » (the € sign sits next to the
    input)."""
    return euros(cents).removesuffix(f"{NBSP}€")


class EuroInput(forms.TextInput):
    """A text input for euros (decimal keyboard on phones) followed by the « € » sign."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        base = {"inputmode": "decimal", "autocomplete": "off", "class": "euro-input"}
        super().__init__({**base, **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return euros_input(value)
        return super().format_value(value)

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html(
            '<span class="euro-field" style="display:flex;align-items:center;gap:.4em">'
            '{}<span class="euro-field__sign" aria-hidden="true">€</span></span>',
            html,
        )


class EuroField(forms.Field):
    """Typed in euros, cleaned to an ``int`` of cents (``None`` when empty and not required)."""

    widget = EuroInput
    default_error_messages = {
        "min_value": _("Le montant doit être d'au moins %(limit)s."),
        "max_value": _("Le montant ne peut pas dépasser %(limit)s."),
    }

    def __init__(
        self, *, min_value: int | None = 0, max_value: int | None = None, **kwargs: Any
    ) -> None:
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return euros_input(value)
        return value

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return euros_parse(value)

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is None:
            return
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(
                self.error_messages["min_value"],
                code="min_value",
                params={"limit": euros(self.min_value)},
            )
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(
                self.error_messages["max_value"],
                code="max_value",
                params={"limit": euros(self.max_value)},
            )


# PositiveIntegerField's database maximum (PostgreSQL integer).
_INTEGER_MAX = 2_147_483_647


def euro_formfield(field: models.Field) -> EuroField:
    """The euro form field for a model's ``*_cents`` field: same label, help text and
    required-ness."""
    return EuroField(
        label=capfirst(field.verbose_name),
        help_text=field.help_text,
        required=not field.blank,
        min_value=0,
        max_value=_INTEGER_MAX,
    )


class EuroFormMixin:
    """For model forms: the ``*_cents`` fields named in ``euro_fields`` are typed in euros."""

    euro_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields  # type: ignore[attr-defined]
        model = self._meta.model  # type: ignore[attr-defined]
        for name in self.euro_fields:
            if name in fields:
                fields[name] = euro_formfield(model._meta.get_field(name))


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return str(_("Oui") if value else _("Non"))


class EuroColumn(Column):
    """A listing column showing a ``*_cents`` attribute in euros (empty when ``None``)."""

    def __init__(self, name: str, *, empty: str = "", **kwargs: Any) -> None:
        def accessor(instance: Any) -> str:
            cents = getattr(instance, name)
            return empty if cents is None else euros(cents)

        kwargs.setdefault("sort_key", name)
        super().__init__(name, accessor=accessor, **kwargs)


class YesNoColumn(Column):
    """A listing column showing a boolean (field or method) as « Oui » / « Non »."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        def accessor(instance: Any) -> str:
            value = getattr(instance, name)
            return yes_no(value() if callable(value) else value)

        super().__init__(name, accessor=accessor, **kwargs)


class CentsComparison(FieldComparison):
    """Wagtail's revision comparison of an amount: « 9,90 € », not the stored « 990 ».

    Registered for integer fields; only the ``*_cents`` ones are shown as euros.
    """

    def _shown(self, value: Any) -> Any:
        if value is None or not self.field.name.endswith("_cents"):
            return value
        return euros(value)

    def htmldiff(self) -> str:
        before, after = self._shown(self.val_a), self._shown(self.val_b)
        if before != after:
            return TextDiff([("deletion", before), ("addition", after)]).to_html()
        return escape(before)


for _integer_field in (models.PositiveIntegerField, models.IntegerField):
    register_comparison_class(_integer_field, comparison_class=CentsComparison)
