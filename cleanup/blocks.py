"""StreamField blocks of the doctor's positive content (profile page body, information
articles, directory entries).

Why: R4127-19-1 (DOMAIN §5.1) allows neutral information that helps patients choose a
practitioner, nothing else. So the blocks are only text, headings, practice information and
opening hours / contact details: there is deliberately no image block (no patient pictures), no
rating, review or testimonial block. Every text a block holds is checked by
``cleanup.models.content.stream_text_issues`` at save and at approval.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

# Plain formatting only: no embeds, no images, no documents.
RICH_TEXT_FEATURES = ["bold", "italic", "ol", "ul", "link"]


class HeadingBlock(blocks.CharBlock):
    class Meta:
        label = _("Intertitre")
        icon = "title"
        template = "cleanup/blocks/heading.html"


class PracticeInfoBlock(blocks.StructBlock):
    """A labelled piece of practical information (access, payment, languages, equipment)."""

    label = blocks.CharBlock(label=_("intitulé"), max_length=120)
    text = blocks.TextBlock(label=_("information"))

    class Meta:
        label = _("Information pratique")
        icon = "info-circle"
        template = "cleanup/blocks/practice_info.html"


class HoursContactBlock(blocks.StructBlock):
    """Opening hours and how to reach the practice."""

    hours = blocks.TextBlock(label=_("horaires"), required=False)
    phone = blocks.CharBlock(label=_("téléphone"), max_length=30, required=False)
    email = blocks.EmailBlock(label=_("adresse électronique"), required=False)
    address = blocks.TextBlock(label=_("adresse"), required=False)
    booking_url = blocks.URLBlock(label=_("prise de rendez-vous en ligne"), required=False)

    class Meta:
        label = _("Horaires et contact")
        icon = "time"
        template = "cleanup/blocks/hours_contact.html"


def content_blocks() -> list[tuple[str, blocks.Block]]:
    return [
        ("heading", HeadingBlock()),
        (
            "paragraph",
            blocks.RichTextBlock(
                features=RICH_TEXT_FEATURES,
                label=_("Paragraphe"),
                icon="pilcrow",
            ),
        ),
        ("practice_info", PracticeInfoBlock()),
        ("hours_contact", HoursContactBlock()),
    ]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def stream_texts(raw: list[dict[str, Any]]) -> Iterator[tuple[int, str, str]]:
    """(position from 1, block type, plain text) for every text of a StreamField's raw data
    (``value.get_prep_value()``); rich text is reduced to its words."""
    for n, block in enumerate(raw or [], start=1):
        for text in _strings(block.get("value")):
            plain = html.unescape(strip_tags(text)).strip()
            if plain:
                yield n, str(block.get("type", "")), plain
