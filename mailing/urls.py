"""The doctor's « Notifications » page in the portal."""

from django.urls import path

from mailing import views

app_name = "notifications"

urlpatterns = [
    path("", views.portal_channels, name="list"),
    path(
        "<uuid:public_id>/<str:action>/",
        views.portal_channel_action,
        name="action",
    ),
]
