"""URLs of the platform (public schema) host: the operator's page and admin, webhooks."""

from django.conf import settings
from django.urls import include, path
from django.views.generic import TemplateView

from saas.health import healthz
from tenants.admin import platform_admin
from tenants.platform_login import platform_admin_login
from tenants.webhooks import stripe_webhook

urlpatterns = [
    path("", TemplateView.as_view(template_name="platform/home.html"), name="platform-home"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("compte/double-authentification/", include("tenants.two_factor_urls")),
    path("admin/login/", platform_admin_login, name="platform-admin-login"),
    path("admin/", platform_admin.urls),
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
