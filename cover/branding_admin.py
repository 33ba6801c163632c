"""The branding form in the insurer's Wagtail admin: colour pickers and a live preview.

The colours stay ``#RRGGBB`` text validated by ``cover.models.colour_validator``; the browser
shows a colour picker (``<input type="color">`` always submits lowercase ``#rrggbb``). The
preview repeats the public site's header and main button with the chosen name, logo and
colours; ``cover/static/cover/branding_preview.js`` (a file, no inline script, no ``eval``)
updates it as the fields change.
"""

from __future__ import annotations

from django import forms
from wagtail.admin.panels import Panel


class ColourInput(forms.TextInput):
    input_type = "color"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"class": "egide-colour-input", **(attrs or {})})

    def format_value(self, value):
        # <input type="color"> accepts only lowercase #rrggbb; anything else shows black.
        formatted = super().format_value(value)
        return formatted.lower() if formatted else formatted


class BrandingPreviewPanel(Panel):
    """What the public site's header and main button look like with the form's values."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "cover/admin/branding_preview.html"

        class Media:
            js = ["cover/branding_preview.js"]

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            instance = self.instance
            context.update(
                display_name=getattr(instance, "display_name", ""),
                logo=getattr(instance, "logo", None),
                primary_colour=(getattr(instance, "primary_colour", "") or "#1d3557").lower(),
                accent_colour=(getattr(instance, "accent_colour", "") or "#e63946").lower(),
            )
            return context
