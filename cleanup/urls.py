"""Doctor portal of the monitoring guarantee (namespace "cleanup"), and the site's sitemap
(where doctors' public profile pages are listed for search engines)."""

from django.urls import path
from wagtail.contrib.sitemaps.views import sitemap

from cleanup import views

app_name = "cleanup"

urlpatterns = [
    path("sitemap.xml", sitemap, name="sitemap"),
    path("veille/", views.dashboard, name="dashboard"),
    path("veille/profil/", views.profile_edit, name="profile"),
    path("veille/pages/ajouter/", views.page_add, name="page-add"),
    path("veille/pages/<int:page_id>/retirer/", views.page_remove, name="page-remove"),
    path("veille/pages/<int:page_id>/conformite/", views.compliance, name="compliance"),
    path("veille/pages/<int:page_id>/capture/", views.page_capture, name="page-capture"),
    path("veille/lancer/", views.scan_now, name="scan-now"),
    path("veille/scan/<int:scan_id>/etat/", views.scan_status, name="scan-status"),
    path("veille/alertes/<int:alert_id>/reponse/", views.alert_reply, name="alert-reply"),
    path(
        "veille/alertes/<int:alert_id>/avis/<int:review_id>/examiner/",
        views.baseline_examine,
        name="baseline-examine",
    ),
    path("veille/alertes/<int:alert_id>/<slug:action>/", views.alert_action, name="alert-action"),
    path("veille/demandes/", views.requests_list, name="requests"),
    path("veille/demandes/nouvelle/", views.request_new, name="request-new"),
    path("veille/demandes/<int:request_id>/", views.request_detail, name="request"),
    path("veille/demandes/<int:request_id>/courrier.pdf", views.request_pdf, name="request-pdf"),
    path("veille/contenus/", views.content_plan, name="content"),
]
