"""The insurer's clock settings as a form: per clock, a duration and its reminders, each shown
next to the caveat DOMAIN attaches to it, instead of raw JSON.

Kept apart from ``cover/forms.py`` (which imports the models) because ``cover.models`` uses
this form as the ``ClockSettings`` base form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel

from cover.rules import (
    CLOCKS,
    CONFIDENCE_NOTES,
    Alert,
    AlertAnchor,
    ClockRule,
    Duration,
    DurationUnit,
    clock_overrides_from_json,
    clock_rules_with_overrides,
)

CLOCK_UNIT_LABELS: Mapping[DurationUnit, Any] = {
    DurationUnit.DAYS: gettext_lazy("jours"),
    DurationUnit.WORKING_DAYS: gettext_lazy("jours ouvrés"),
    DurationUnit.MONTHS: gettext_lazy("mois"),
    DurationUnit.YEARS: gettext_lazy("ans"),
}
# Beyond these a value is a typo, not a contract term (the longest clock is 6 years).
CLOCK_MAX_AMOUNT: Mapping[DurationUnit, int] = {
    DurationUnit.DAYS: 730,
    DurationUnit.WORKING_DAYS: 260,
    DurationUnit.MONTHS: 60,
    DurationUnit.YEARS: 20,
}
# The shortest number of calendar days a duration can last: a reminder must fall inside it.
_MIN_DAYS_PER_UNIT: Mapping[DurationUnit, int] = {
    DurationUnit.DAYS: 1,
    DurationUnit.WORKING_DAYS: 1,
    DurationUnit.MONTHS: 28,
    DurationUnit.YEARS: 365,
}


def clock_field_name(clock_id: str, part: str) -> str:
    return f"clock_{clock_id.lower()}_{part}"


def _duration_text(duration: Duration) -> str:
    return f"{duration.amount} {CLOCK_UNIT_LABELS[duration.unit]}"


def clock_caveat_html(clock_id: str) -> str:
    """The clock's « À vérifier » notes in plain French with their explanation and its source."""
    rule = CLOCKS[clock_id]
    items = []
    for caveat in rule.caveats:
        note = caveat.note
        text = _(caveat.text)
        items.append((f"{note} : {text}" if note else text,))
    if not items:
        notes = [str(CONFIDENCE_NOTES[c]) for c in rule.confidence if CONFIDENCE_NOTES[c]]
        items.append((_(notes[0]) if notes else _("Règle issue du texte de loi."),))
    default = _("Valeur par défaut : %(value)s.") % {"value": _duration_text(rule.duration)}
    if clock_id == "INSURER_DECLARATION":
        default += " " + _(
            "Le délai de déclaration saisi sur une formule prime sur cette valeur pour les "
            "contrats de cette formule."
        )
    return format_html(
        '<ul class="clock-caveats">{}</ul><p>{} <span class="clock-source">{}</span></p>',
        format_html_join("", "<li>{}</li>", items),
        default,
        _("Source : %(source)s") % {"source": _(rule.legal_basis)},
    )


def clock_settings_panels() -> list[Any]:
    """One group per clock: its caveat, then duration, unit and reminders."""
    panels: list[Any] = []
    for clock_id, rule in CLOCKS.items():
        panels.append(
            MultiFieldPanel(
                [
                    HelpPanel(content=lazy(clock_caveat_html, str)(clock_id)),
                    FieldPanel(clock_field_name(clock_id, "amount")),
                    FieldPanel(clock_field_name(clock_id, "unit")),
                    FieldPanel(clock_field_name(clock_id, "alerts_due")),
                    FieldPanel(clock_field_name(clock_id, "alerts_start")),
                ],
                heading=gettext_lazy(rule.label),
                classname="collapsed",
            )
        )
    return panels


def _alerts_text(alerts: tuple[Alert, ...], anchor: AlertAnchor) -> str:
    return ", ".join(str(a.days) for a in alerts if a.anchor is anchor)


def _clock_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for clock_id in CLOCKS:
        fields[clock_field_name(clock_id, "amount")] = forms.IntegerField(
            label=gettext_lazy("Durée"),
            required=False,
            error_messages={"invalid": gettext_lazy("Indiquez un nombre entier.")},
        )
        fields[clock_field_name(clock_id, "unit")] = forms.ChoiceField(
            label=gettext_lazy("Unité"),
            required=False,
            choices=[("", "—"), *((u.value, label) for u, label in CLOCK_UNIT_LABELS.items())],
        )
        fields[clock_field_name(clock_id, "alerts_due")] = forms.CharField(
            label=gettext_lazy("Rappels (jours avant l'échéance)"),
            required=False,
            max_length=100,
            help_text=gettext_lazy("Nombres de jours séparés par des virgules, par exemple 30, 7."),
        )
        fields[clock_field_name(clock_id, "alerts_start")] = forms.CharField(
            label=gettext_lazy("Rappels (jours après le début du délai)"),
            required=False,
            max_length=100,
        )
    return fields


class _ClockSettingsFormBase(WagtailAdminModelForm):
    """Writes ``ClockSettings.clock_overrides``: only what differs from the catalogue is stored,
    and override fields the form does not show (an end offset set by counsel) are kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock_overrides: dict[str, Any] = {}
        stored = (self.instance.clock_overrides or {}) if self.instance else {}
        try:
            rules, _changed = clock_rules_with_overrides(
                overrides=clock_overrides_from_json(stored)
            )
        except ValueError:
            rules = dict(CLOCKS)
        for clock_id, rule in rules.items():
            self.initial.setdefault(clock_field_name(clock_id, "amount"), rule.duration.amount)
            self.initial.setdefault(clock_field_name(clock_id, "unit"), rule.duration.unit.value)
            self.initial.setdefault(
                clock_field_name(clock_id, "alerts_due"), _alerts_text(rule.alerts, AlertAnchor.DUE)
            )
            self.initial.setdefault(
                clock_field_name(clock_id, "alerts_start"),
                _alerts_text(rule.alerts, AlertAnchor.START),
            )

    def _clock_duration(self, clock_id: str, rule: ClockRule) -> Duration | None:
        amount_name = clock_field_name(clock_id, "amount")
        amount = self.cleaned_data.get(amount_name)
        unit = self.cleaned_data.get(clock_field_name(clock_id, "unit"))
        if amount_name in self.errors:
            return None
        if amount is None and not unit:
            return rule.duration
        if amount is None or not unit:
            self.add_error(
                amount_name, _("Indiquez la durée et son unité, ou laissez les deux vides.")
            )
            return None
        duration_unit = DurationUnit(unit)
        if amount < 1:
            self.add_error(amount_name, _("La durée doit être d'au moins 1."))
            return None
        limit = CLOCK_MAX_AMOUNT[duration_unit]
        if amount > limit:
            self.add_error(
                amount_name,
                _("Durée invraisemblable : au plus %(limit)s %(unit)s.")
                % {"limit": limit, "unit": CLOCK_UNIT_LABELS[duration_unit]},
            )
            return None
        return Duration(amount, duration_unit)

    def _clock_alerts(
        self, clock_id: str, anchor: AlertAnchor, duration: Duration | None
    ) -> list[Alert] | None:
        """The reminders typed for one anchor (blank: the catalogue's), ``None`` on an error."""
        part = "alerts_due" if anchor is AlertAnchor.DUE else "alerts_start"
        name = clock_field_name(clock_id, part)
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return [a for a in CLOCKS[clock_id].alerts if a.anchor is anchor]
        days: list[int] = []
        for piece in text.replace(";", ",").split(","):
            piece = piece.strip()
            if not piece:
                continue
            if not piece.isdigit():
                self.add_error(name, _("Indiquez des nombres de jours séparés par des virgules."))
                return None
            days.append(int(piece))
        if duration is None:
            return None
        longest = duration.amount * _MIN_DAYS_PER_UNIT[duration.unit]
        for day in days:
            if day < 1 or day >= longest:
                self.add_error(
                    name,
                    _(
                        "Le rappel à %(days)s jours doit tomber pendant le délai "
                        "(%(duration)s) : entre 1 et %(max)s jours."
                    )
                    % {"days": day, "duration": _duration_text(duration), "max": longest - 1},
                )
                return None
        return [Alert(day, anchor) for day in sorted(set(days), reverse=anchor is AlertAnchor.DUE)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        stored = dict(self.instance.clock_overrides or {}) if self.instance else {}
        result: dict[str, Any] = {}
        for clock_id, rule in CLOCKS.items():
            entry = {
                k: v
                for k, v in dict(stored.get(clock_id, {})).items()
                if k not in {"duration", "alerts"}
            }
            duration = self._clock_duration(clock_id, rule)
            due = self._clock_alerts(clock_id, AlertAnchor.DUE, duration)
            start = self._clock_alerts(clock_id, AlertAnchor.START, duration)
            if duration is None or due is None or start is None:
                continue
            if duration != rule.duration:
                entry["duration"] = {"amount": duration.amount, "unit": duration.unit.value}
            alerts = (*due, *start)
            if sorted(alerts, key=repr) != sorted(rule.alerts, key=repr):
                entry["alerts"] = [{"days": a.days, "anchor": a.anchor.value} for a in alerts]
            if entry:
                result[clock_id] = entry
        try:
            clock_overrides_from_json(result)
        except ValueError:
            raise forms.ValidationError(
                _("Les délais modifiés sont incohérents ; vérifiez les valeurs saisies.")
            ) from None
        self._clock_overrides = result
        return cleaned

    def save(self, commit: bool = True) -> Any:
        self.instance.clock_overrides = self._clock_overrides
        return super().save(commit=commit)


ClockSettingsForm = type("ClockSettingsForm", (_ClockSettingsFormBase,), _clock_fields())
