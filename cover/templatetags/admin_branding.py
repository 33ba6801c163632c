"""The insurer's brand in its Wagtail admin and on the staff login pages.

``{% admin_branding as brand %}`` gives the insurer's display name, logo and its primary colour
as Wagtail's admin colour custom properties (``--w-color-primary-*`` for the sidebar,
``--w-color-secondary-*`` for buttons and links). On the platform host (public schema, no
Wagtail tables) it gives ``None``.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

from django import template
from django.db import connection
from django_tenants.utils import get_public_schema_name
from wagtail.models import Site

from cover.models import Branding

register = template.Library()

# White text sits on these colours in Wagtail's admin: a light brand colour is darkened so the
# sidebar and the buttons stay readable (WCAG AA needs about 4.5:1 against white).
SIDEBAR_MAX_LIGHTNESS = 0.30
BUTTON_MAX_LIGHTNESS = 0.38


@dataclass(frozen=True)
class Hsl:
    hue: float
    saturation: float
    lightness: float

    def capped(self, max_lightness: float) -> Hsl:
        return Hsl(self.hue, self.saturation, min(self.lightness, max_lightness))

    @property
    def css_hue(self) -> str:
        return f"{self.hue * 360:.2f}"

    @property
    def css_saturation(self) -> str:
        return f"{self.saturation * 100:.2f}%"

    @property
    def css_lightness(self) -> str:
        return f"{self.lightness * 100:.2f}%"


def hex_to_hsl(value: str) -> Hsl:
    """``#RRGGBB`` (already validated by ``cover.models.colour_validator``) as HSL."""
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    return Hsl(hue, saturation, lightness)


@dataclass(frozen=True)
class AdminBrand:
    name: str
    logo: object | None
    primary_colour: str
    sidebar: Hsl
    button: Hsl


@register.simple_tag(takes_context=True)
def admin_branding(context) -> AdminBrand | None:
    request = context.get("request")
    if request is None or getattr(connection, "schema_name", None) == get_public_schema_name():
        return None
    if Site.find_for_request(request) is None:
        return None
    branding = Branding.for_request(request)
    colour = branding.primary_colour or Branding._meta.get_field("primary_colour").default
    hsl = hex_to_hsl(colour)
    return AdminBrand(
        name=branding.display_name,
        logo=branding.logo,
        primary_colour=colour,
        sidebar=hsl.capped(SIDEBAR_MAX_LIGHTNESS),
        button=hsl.capped(BUTTON_MAX_LIGHTNESS),
    )
