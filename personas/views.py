"""The persona settings page: pick, design, import and export personas.

The views are adapters: they bind forms, call the services and show what they answer.
A persona the user may not see (or, to change it, does not own) is a 404: the selectors
raise `NotFound`, which `DomainErrorMiddleware` answers.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mybella.core.cache import cached_page
from mybella.core.forms import add_domain_error, error_message
from mybella.core.throttles import throttle_page
from mybella.core.views import require_form_post
from personas import selectors, services
from personas.cache import persona_versions
from personas.forms import CardImportForm, PersonaForm
from personas.models import PersonaProfile
from personas.sections import PersonaSection, persona_sections, section_initial
from personas.templatetags.persona_cards import user_names_filled

SectionForms = list[tuple[PersonaSection, BaseForm]]


def _section_forms(request: HttpRequest, persona: PersonaProfile | None = None) -> SectionForms:
    """Return each registered persona section with its form, bound on a POST."""
    data = (request.POST, request.FILES) if request.method == "POST" else ()
    return [
        (section, section.form_class(*data, user=request.user, persona=persona))
        for section in persona_sections
    ]


def _page_context(
    request: HttpRequest,
    *,
    persona_form: PersonaForm | None = None,
    section_forms: SectionForms | None = None,
    editing: PersonaProfile | None = None,
    import_form: CardImportForm | None = None,
) -> dict:
    user = request.user
    current = selectors.persona_get_current(user=user)
    # As listed: a persona's lorebook is read when its edit dialog opens (lorebook.js).
    own = list(selectors.persona_list_owned(user=user, with_sections=True, listing=True))
    dialogs = {
        "persona_form": persona_form or PersonaForm(),
        "section_forms": section_forms if section_forms is not None else _section_forms(request),
        "editing": editing,
        "open_modal": "persona" if persona_form is not None else ("import" if import_form else ""),
        "import_form": import_form or CardImportForm(),
    }
    return {
        "settings_section": "personas",
        "current": current,
        "system_personas": list(selectors.persona_list_system()),
        "own_personas": own,
        "editable": {
            persona.pk: PersonaForm.initial_for(persona)
            | section_initial(persona)
            | {"avatar_url": persona.avatar.url if persona.avatar else ""}
            for persona in own
        },
        **dialogs,
    }


def _render_page(
    request: HttpRequest,
    *,
    persona_form: PersonaForm | None = None,
    section_forms: SectionForms | None = None,
    editing: PersonaProfile | None = None,
    import_form: CardImportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _page_context(
        request,
        persona_form=persona_form,
        section_forms=section_forms,
        editing=editing,
        import_form=import_form,
    )
    return render(request, "personas/settings.html", context, status=status)


def _render_keys() -> list[object]:
    """Return what the unbound section forms show beyond their rows (`render_key`)."""
    return [section.render_key() if section.render_key else None for section in persona_sections]


def _valid(form: PersonaForm, section_forms: SectionForms) -> bool:
    # Every form is checked, so the page shows all the errors at once.
    return all([form.is_valid(), *(section_form.is_valid() for _, section_form in section_forms)])


def _sections_data(section_forms: SectionForms) -> dict:
    return {section.name: section_form.cleaned_data for section, section_form in section_forms}


def _add_error(form: PersonaForm, section_forms: SectionForms, error: ValidationError) -> None:
    """Show a service's error on the form it is about: a section's, else the persona form."""
    fields = set(getattr(error, "error_dict", {}))
    for _section, section_form in section_forms:
        if fields and fields <= set(section_form.fields):
            add_domain_error(section_form, error)
            return
    add_domain_error(form, error)


def _uploads_a_file(request: HttpRequest) -> bool:
    """Tell whether a persona form was posted with a file (an avatar): then it is an upload."""
    return bool(request.FILES)


@login_required
@require_GET
def persona_settings(request: HttpRequest) -> HttpResponse:
    """Show the current persona, the system personas and the user's own.

    The whole page is cached per caller until a persona they see, their choice of persona
    or the voices on offer change (`personas.cache`: voices' writes say so too), or what a
    section's `render_key` names. A page that fills the user's name into a persona's text
    is not stored: that name has sources (the account, memory) no version follows.
    """
    # The section forms are made only for a page not cached: they build their querysets.
    return cached_page(
        request,
        "personas/settings.html",
        key=["personas:settings", _render_keys()],
        depends_on=persona_versions(request.user),
        context=lambda: _page_context(request),
        keep=lambda context: not user_names_filled(request),
    )


@login_required
@require_form_post("personas:settings")
@throttle_page("uploads", when=_uploads_a_file)
def persona_create(request: HttpRequest) -> HttpResponse:
    form = PersonaForm(request.POST, request.FILES)
    section_forms = _section_forms(request)
    if _valid(form, section_forms):
        try:
            persona = services.persona_create(
                owner=request.user,
                fields=form.persona_fields(),
                avatar=form.cleaned_data["avatar"],
                sections=_sections_data(section_forms),
            )
        except ValidationError as error:
            _add_error(form, section_forms, error)
        else:
            messages.success(request, _("%s is ready to talk.") % persona.name)
            return redirect("personas:settings")
    return _render_page(request, persona_form=form, section_forms=section_forms, status=400)


@login_required
@require_form_post("personas:settings")
@throttle_page("uploads", when=_uploads_a_file)
def persona_edit(request: HttpRequest, pk: int) -> HttpResponse:
    persona = selectors.persona_get_owned(user=request.user, pk=pk)
    form = PersonaForm(request.POST, request.FILES)
    section_forms = _section_forms(request, persona)
    if _valid(form, section_forms):
        try:
            persona = services.persona_update(
                persona=persona,
                user=request.user,
                fields=form.persona_fields(),
                avatar=form.cleaned_data["avatar"],
                remove_avatar=form.cleaned_data["remove_avatar"],
                sections=_sections_data(section_forms),
            )
        except ValidationError as error:
            _add_error(form, section_forms, error)
        else:
            messages.success(request, _("%s is saved.") % persona.name)
            return redirect("personas:settings")
    return _render_page(
        request, persona_form=form, section_forms=section_forms, editing=persona, status=400
    )


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
    persona = selectors.persona_get_visible(user=request.user, pk=pk)
    try:
        services.persona_select(user=request.user, persona=persona)
    except PermissionDenied as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, _("You are now talking to %s.") % persona.name)
    target = _safe_next(request)
    return HttpResponseRedirect(target) if target else redirect("personas:settings")


@login_required
@require_POST
def persona_delete(request: HttpRequest, pk: int) -> HttpResponse:
    persona = selectors.persona_get_owned(user=request.user, pk=pk)
    services.persona_delete(persona=persona, user=request.user)
    messages.success(
        request, _("%s was deleted, with their conversations and memories.") % persona.name
    )
    return redirect("personas:settings")


@login_required
@require_form_post("personas:settings")
@throttle_page("uploads")
def persona_import(request: HttpRequest) -> HttpResponse:
    form = CardImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            persona = services.persona_import_card(
                owner=request.user, data=form.cleaned_data["card"].read()
            )
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%s was imported.") % persona.name)
            return redirect("personas:settings")
    return _render_page(request, import_form=form, status=400)


@login_required
@require_GET
@throttle_page("uploads", methods=("GET",))
def persona_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a persona as a Character Card: JSON (the default) or `?format=png`."""
    persona = selectors.persona_get_visible(user=request.user, pk=pk)
    try:
        content, content_type, filename = services.persona_export_card(
            persona=persona, fmt=request.GET.get("format", "json")
        )
    except ValidationError as error:
        return HttpResponseBadRequest(
            error_message(error), content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
