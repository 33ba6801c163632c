"""Doctor portal views (thin: reads go through selectors)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def portal_home(request):
    return render(request, "portal/home.html", {"user": request.user})
