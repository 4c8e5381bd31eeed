"""The persona settings page: pick, design, import and export personas."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mybella.providers.speech import get_engine
from personas import selectors, services
from personas.forms import CardImportForm, PersonaForm
from personas.models import PersonaProfile
from voices import selectors as voice_selectors
from voices import services as voice_services


def _visible_persona(request: HttpRequest, pk: int) -> PersonaProfile:
    return selectors.persona_get_visible(user=request.user, pk=pk)


def _own_persona(request: HttpRequest, pk: int) -> PersonaProfile:
    return get_object_or_404(selectors.persona_list_owned(user=request.user), pk=pk)


def _add_service_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _render_page(
    request: HttpRequest,
    *,
    persona_form: PersonaForm | None = None,
    editing: PersonaProfile | None = None,
    import_form: CardImportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    current = selectors.persona_get_current(user=user)
    own = list(selectors.persona_list_owned(user=user))
    context = {
        "settings_section": "personas",
        "current": current,
        "system_personas": list(selectors.persona_list_system()),
        "own_personas": own,
        "editable": {
            persona.pk: PersonaForm.initial_for(persona)
            | {"avatar_url": persona.avatar.url if persona.avatar else ""}
            for persona in own
        },
        "persona_form": persona_form or PersonaForm(user=user),
        "presets": list(voice_selectors.preset_list()),
        "custom_voices": list(voice_selectors.custom_voice_list(user=user)),
        "speech_available": get_engine() is not None,
        "editing": editing,
        "open_modal": "persona" if persona_form is not None else ("import" if import_form else ""),
        "import_form": import_form or CardImportForm(),
    }
    return render(request, "personas/settings.html", context, status=status)


@login_required
@require_GET
def persona_settings(request: HttpRequest) -> HttpResponse:
    """Show the current persona, the system personas and the user's own."""
    return _render_page(request)


@login_required
@require_POST
def persona_create(request: HttpRequest) -> HttpResponse:
    form = PersonaForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                persona = services.persona_create(
                    owner=request.user, avatar=form.cleaned_data["avatar"], **form.persona_fields()
                )
                voice_services.persona_set_voice(
                    persona=persona, user=request.user, **form.voice_fields()
                )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("%s is ready to talk.") % persona.name)
            return redirect("personas:settings")
    return _render_page(request, persona_form=form, status=400)


@login_required
@require_POST
def persona_edit(request: HttpRequest, pk: int) -> HttpResponse:
    persona = _own_persona(request, pk)
    form = PersonaForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                persona = services.persona_update(
                    persona=persona,
                    user=request.user,
                    avatar=form.cleaned_data["avatar"],
                    remove_avatar=form.cleaned_data["remove_avatar"],
                    **form.persona_fields(),
                )
                voice_services.persona_set_voice(
                    persona=persona, user=request.user, **form.voice_fields()
                )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("%s is saved.") % persona.name)
            return redirect("personas:settings")
    return _render_page(request, persona_form=form, editing=persona, status=400)


def _safe_next(request: HttpRequest) -> str | None:
    """Return the `next` page asked for (form field or query), if it is a path on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_required
@require_POST
def persona_select(request: HttpRequest, pk: int) -> HttpResponse:
    """Talk to this persona from now on; go back to `next` (chat's switcher) or this page."""
    persona = _visible_persona(request, pk)
    try:
        services.persona_select(user=request.user, persona=persona)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You are now talking to %s.") % persona.name)
    target = _safe_next(request)
    return HttpResponseRedirect(target) if target else redirect("personas:settings")


@login_required
@require_POST
def persona_delete(request: HttpRequest, pk: int) -> HttpResponse:
    persona = _own_persona(request, pk)
    services.persona_delete(persona=persona, user=request.user)
    messages.success(
        request, _("%s was deleted, with their conversations and memories.") % persona.name
    )
    return redirect("personas:settings")


@login_required
@require_POST
def persona_import(request: HttpRequest) -> HttpResponse:
    form = CardImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            persona = services.persona_import_card(
                owner=request.user, data=form.cleaned_data["card"].read()
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("%s was imported.") % persona.name)
            return redirect("personas:settings")
    return _render_page(request, import_form=form, status=400)


@login_required
@require_GET
def persona_export(request: HttpRequest, pk: int) -> HttpResponse:
    fmt = "png" if request.GET.get("format") == "png" else "json"
    content, content_type, filename = services.persona_export_card(
        persona=_visible_persona(request, pk), fmt=fmt
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
