"""URLs of an insurer's host: its portal, its Wagtail admin and its Wagtail site."""

from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from saas.health import healthz
from saas.media import tenant_media
from tenants.landing import StaffLoginView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("compte/double-authentification/", include("tenants.two_factor_urls")),
    # Wagtail's login, landing on each role's home (tenants.landing).
    path("admin/login/", StaffLoginView.as_view(), name="staff-login"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("media/<str:schema>/<path:path>", tenant_media, name="tenant-media"),
    path("", include("cover.urls")),
    path("", include("cover.claims.urls")),
    path("", include("cleanup.urls")),
    path("veille/google/", include("cleanup.google.urls")),
    path("veille/google-maps/", include("cleanup.places.urls")),
    path("", include("evidence.urls")),
    path("portail/notifications/", include("mailing.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

urlpatterns += [path("", include(wagtail_urls))]
