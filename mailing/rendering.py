"""Insurer-edited e-mail templates rendered in a sandbox (the same stance as the letter bodies
of ``cover.claims.letter_templates``).

A template sees only the placeholders of its kind, as plain strings (no model object to walk
from ``{{ user }}`` to a password hash), through an engine with no context processors (no
``settings`` or ``request``), no tag library to load, no includes and no ``debug``. A template
that names anything else is refused when the insurer saves it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.utils.translation import gettext as _

from mailing.kinds import MailKind, mail_sample_context, placeholder

# No library loading (Wagtail's ``get_settings`` would read the insurer's secrets), no context
# dump, no URL reversing or CSRF token: none has a use in an e-mail.
_REFUSED_TAGS = frozenset({"load", "debug", "url", "csrf_token"})
# Names the sandbox adds itself while rendering.
_ENGINE_NAMES = frozenset({"forloop", "True", "False", "None"})


class MailTemplateInvalid(ValueError):
    """A template that cannot be used; the message is French, shown as is."""


@functools.cache
def mail_engine() -> Engine:
    """Plain-text engine: no autoescape (the e-mails are text), no loaders, built-in tags and
    filters only, minus the refused tags."""
    engine = Engine(loaders=[], builtins=[], libraries={}, autoescape=False, debug=False)
    tags = Library()
    tags.tags = {k: v for k, v in defaulttags.register.tags.items() if k not in _REFUSED_TAGS}
    tags.filters = dict(defaulttags.register.filters)
    engine.template_builtins = [tags, defaultfilters.register]
    return engine


class _RecordingContext(Context):
    """Notes every name a template asks for and the context does not have."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values, autoescape=False)
        self.unknown: set[str] = set()

    def __getitem__(self, key: Any) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError:
            self.unknown.add(key)
            raise


def _invalid(error: object) -> MailTemplateInvalid:
    return MailTemplateInvalid(
        _("Modèle d'e-mail invalide (à corriger dans « Modèles d'e-mail ») : %(error)s")
        % {"error": error}
    )


def mail_text_render(*, source: str, context: Mapping[str, Any]) -> str:
    """Render one subject or body with the given placeholder values."""
    try:
        template = mail_engine().from_string(source)
    except TemplateSyntaxError as exc:
        raise _invalid(exc) from exc
    # Plain text, not HTML: drop the "safe" mark Django puts on rendered output, so that a
    # page showing it (the admin preview) escapes it.
    return str.__str__(template.render(Context(dict(context), autoescape=False)))


def mail_template_check(*, kind: MailKind, source: str) -> None:
    """Refuse a template that does not parse or names anything but its kind's placeholders
    (``{{ settings.… }}``, ``{{ request }}``…). Rendered against the sample values, so every
    branch that the samples reach is checked."""
    try:
        template = mail_engine().from_string(source)
    except TemplateSyntaxError as exc:
        raise _invalid(exc) from exc
    context = _RecordingContext(mail_sample_context(kind))
    template.render(context)
    unknown = sorted(context.unknown - _ENGINE_NAMES)
    if unknown:
        raise MailTemplateInvalid(
            _("Champ inconnu pour ce type d'e-mail : %(names)s. Champs disponibles : %(known)s.")
            % {
                "names": ", ".join(placeholder(name) for name in unknown),
                "known": ", ".join(placeholder(name) for name in mail_sample_context(kind) if name),
            }
        )
