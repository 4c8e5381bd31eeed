"""The memory page: what each persona remembers about the user, and how they like to be talked to.

Every handler reaches personas and memories through the selectors, so another user's
memory or an invisible persona is a 404 (the memory selectors raise `NotFound`, which
`DomainErrorMiddleware` answers with one); every change goes through the memory services,
which decide what changed.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from memory import selectors, services
from memory.forms import MemoryForm, PinForm, PreferencesForm, RememberForm
from memory.models import ConversationMemory
from mybella.core.forms import add_domain_error
from mybella.core.throttles import throttle_page
from mybella.core.views import require_form_post
from personas.models import PersonaProfile
from personas.selectors import persona_get_current, persona_get_visible, persona_list_visible


def _visible_persona(request: HttpRequest, persona_id: object) -> PersonaProfile:
    return persona_get_visible(user=request.user, pk=persona_id)


def _own_memory(request: HttpRequest, pk: int) -> ConversationMemory:
    """Return one of the user's memories held by a persona they can still see."""
    return selectors.memory_get_visible(user=request.user, pk=pk)


def _back(persona: PersonaProfile, anchor: str = "") -> HttpResponseRedirect:
    url = f"{reverse('memory:page')}?persona={persona.pk}"
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


def _render_page(
    request: HttpRequest,
    persona: PersonaProfile | None,
    *,
    add_form: MemoryForm | None = None,
    edit_form: MemoryForm | None = None,
    editing: ConversationMemory | None = None,
    preferences_form: PreferencesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    personas = persona_list_visible(user=user).annotate(
        memory_count=Count(
            "memories", filter=Q(memories__user=user, memories__superseded_by__isnull=True)
        )
    )
    context: dict[str, object] = {
        "settings_section": "memory",
        "personas": personas,
        "persona": persona,
    }
    if persona is None:
        return render(request, "memory/page.html", context, status=status)

    memories = selectors.memory_list_with_history(user=user, persona=persona)
    items = [
        (
            memory,
            edit_form
            if editing is not None and memory.pk == editing.pk
            else MemoryForm.for_memory(memory),
        )
        for memory in memories
    ]
    if preferences_form is None:
        preferences_form = PreferencesForm(
            initial=selectors.preference_dict(user=user, persona=persona)
        )
    replaced = selectors.memory_list_with_history(
        user=user, persona=persona, superseded=True
    ).select_related("superseded_by")
    context |= {
        "items": items,
        "replaced": replaced,
        "editing_id": editing.pk if editing is not None else None,
        "remember": selectors.memory_enabled(user=user, persona=persona),
        "add_form": add_form or MemoryForm(auto_id="add-%s"),
        "preferences_form": preferences_form,
        # Anything newer reads "just now" rather than "0 minutes ago".
        "just_now": timezone.now() - timedelta(minutes=1),
    }
    return render(request, "memory/page.html", context, status=status)


@login_required
@require_GET
def memory_page(request: HttpRequest) -> HttpResponse:
    """Show what one persona (the current one unless `?persona=` says) remembers about the user."""
    if "persona" in request.GET:
        persona = _visible_persona(request, request.GET["persona"])
    else:
        persona = persona_get_current(user=request.user)
    return _render_page(request, persona)


@login_required
@require_form_post("memory:page")
@throttle_page("memory")
def memory_add(request: HttpRequest, persona_id: int) -> HttpResponse:
    persona = _visible_persona(request, persona_id)
    form = MemoryForm(request.POST, auto_id="add-%s")
    if form.is_valid():
        try:
            services.memory_create(user=request.user, persona=persona, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%s will remember that.") % persona.name)
            return _back(persona, "memories")
    return _render_page(request, persona, add_form=form, status=400)


@login_required
@require_form_post("memory:page")
@throttle_page("memory")
def memory_edit(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _own_memory(request, pk)
    form = MemoryForm(request.POST, auto_id=f"memory-{memory.pk}-%s", kind=memory.kind)
    if form.is_valid():
        try:
            # The service decides what changed: saving unchanged leaves no entry in the history.
            services.memory_update(memory=memory, **form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The memory is saved."))
            return _back(memory.persona, f"memory-{memory.pk}")
    return _render_page(request, memory.persona, edit_form=form, editing=memory, status=400)


@login_required
@require_form_post("memory:page")
def memory_pin(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _own_memory(request, pk)
    form = PinForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to pin or unpin the memory."))
        return _render_page(request, memory.persona, status=400)
    pinned = form.cleaned_data["pinned"]
    services.memory_update(memory=memory, pinned=pinned)
    messages.success(request, _("Pinned: it stays on top.") if pinned else _("Unpinned."))
    return _back(memory.persona, f"memory-{memory.pk}")


@login_required
@require_POST
def memory_delete(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _own_memory(request, pk)
    persona = memory.persona
    services.memory_delete(memory=memory)
    messages.success(request, _("%s forgot that.") % persona.name)
    return _back(persona, "memories")


@login_required
@require_POST
def memory_forget_all(request: HttpRequest, persona_id: int) -> HttpResponse:
    persona = _visible_persona(request, persona_id)
    services.memory_forget_all(user=request.user, persona=persona)
    messages.success(
        request,
        _("%s forgot everything about you. Your conversations are still there.") % persona.name,
    )
    return _back(persona)


@login_required
@require_form_post("memory:page")
def memory_remember(request: HttpRequest, persona_id: int) -> HttpResponse:
    persona = _visible_persona(request, persona_id)
    form = RememberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether remembering is on or off."))
        return _render_page(request, persona, status=400)
    remember = form.cleaned_data["remember"]
    services.memory_settings_set(user=request.user, persona=persona, remember=remember)
    if remember:
        messages.success(request, _("%s remembers things again.") % persona.name)
    else:
        messages.success(
            request, _("%s won’t remember anything new or recall memories.") % persona.name
        )
    return _back(persona)


@login_required
@require_form_post("memory:page")
def memory_preferences(request: HttpRequest, persona_id: int) -> HttpResponse:
    persona = _visible_persona(request, persona_id)
    form = PreferencesForm(request.POST)
    if form.is_valid():
        try:
            # All or nothing: a refused field leaves every preference as it was.
            services.preferences_set(user=request.user, persona=persona, values=form.cleaned_data)
        except ValidationError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your preferences for %s are saved.") % persona.name)
            return _back(persona, "preferences")
    return _render_page(request, persona, preferences_form=form, status=400)
