from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from mailing.models import MailTemplate


class MailTemplateViewSet(SnippetViewSet):
    model = MailTemplate
    icon = "mail"
    menu_label = _("Modèles d'e-mail")
    ordering = ["kind"]
    list_display = ["__str__", "kind", "updated_at"]


register_snippet(MailTemplateViewSet)
