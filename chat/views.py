"""The chat page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def chat_page(request: HttpRequest) -> HttpResponse:
    """Talk to the current persona (or the one in `?persona=`)."""
    return render(request, "chat/page.html", {})
