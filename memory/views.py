"""The memory settings page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def memory_page(request: HttpRequest) -> HttpResponse:
    """Show what each persona remembers about the user."""
    return render(request, "memory/page.html", {"settings_section": "memory"})
