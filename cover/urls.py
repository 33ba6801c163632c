from django.contrib.auth import views as auth_views
from django.urls import path

from cover import card_views, onboarding_views, views
from tenants.landing import PasswordSetView, PortalLoginView

app_name = "portal"

urlpatterns = [
    path("compte/connexion/", PortalLoginView.as_view(), name="login"),
    path("compte/deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("compte/mot-de-passe/<uidb64>/<token>/", PasswordSetView.as_view(), name="password-set"),
    path("compte/inscription/", views.signup, name="signup"),
    path("compte/inscription/envoyee/", views.signup_sent, name="signup-sent"),
    path("compte/verification/<uidb64>/<token>/", views.verify_email, name="verify"),
    path("portail/", views.portal_home, name="home"),
    path("portail/premiers-pas/masquer/", onboarding_views.onboarding_hide, name="onboarding-hide"),
    path("portail/profil/", views.profile, name="profile"),
    path("portail/souscrire/", views.plan_choice, name="plan-choice"),
    path("portail/souscrire/retour/", views.checkout_return, name="checkout-return"),
    path("portail/contrat/", views.policy_detail, name="policy"),
    path("portail/contrat/<str:number>/attestation.pdf", views.certificate, name="certificate"),
    path("portail/contrat/<str:number>/regler/", views.policy_pay, name="policy-pay"),
    path("portail/contrat/<str:number>/carte/", card_views.policy_card_change, name="policy-card"),
    path(
        "portail/contrat/<str:number>/carte/retour/",
        card_views.policy_card_changed,
        name="policy-card-return",
    ),
    path("portail/contrat/<str:number>/resilier/", views.policy_cancel, name="policy-cancel"),
    path(
        "portail/contrat/<str:number>/resiliation/",
        views.policy_cancelled,
        name="policy-cancelled",
    ),
    path("formules/<slug:slug>/document-information.pdf", views.plan_ipid, name="plan-ipid"),
    path(
        "portail/contrat/<str:number>/document-information.pdf",
        views.policy_ipid,
        name="policy-ipid",
    ),
    path(
        "portail/contrat/<str:number>/conditions-generales.pdf",
        views.policy_conditions,
        name="policy-conditions",
    ),
]
