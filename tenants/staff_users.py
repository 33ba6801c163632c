"""Staff accounts in an insurer's Wagtail admin: nobody grants more than they hold.

Wagtail's user forms offer « Administrateur » (``is_superuser``) to anyone allowed to add or
change users. An insurer admin could make a superuser, who then opens claims and evidence
that the insurer-admin role is refused. Here only a superuser sees or sets that box, and only a
superuser may edit a superuser's account (its password included).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.views.users import CreateView, EditView, UserViewSet


class _NoSuperuserGrant:
    def __init__(self, *args, can_grant_superuser: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_grant_superuser:
            self.fields.pop("is_superuser", None)  # type: ignore[attr-defined]


class StaffCreationForm(_NoSuperuserGrant, UserCreationForm):
    pass


class StaffEditForm(_NoSuperuserGrant, UserEditForm):
    pass


class StaffCreateView(CreateView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "can_grant_superuser": self.request.user.is_superuser}


class StaffEditView(EditView):
    def dispatch(self, request, *args, **kwargs):
        if self.object.is_superuser and not request.user.is_superuser:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "can_grant_superuser": self.request.user.is_superuser}


class StaffUserViewSet(UserViewSet):
    add_view_class = StaffCreateView
    edit_view_class = StaffEditView

    def get_form_class(self, for_update=False):
        return StaffEditForm if for_update else StaffCreationForm
