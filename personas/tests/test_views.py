"""The persona settings page and its forms, through Django's test client."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from personas.models import PersonaProfile
from personas.tests.factories import PersonaFactory
from personas.tests.images import image_bytes

pytestmark = pytest.mark.django_db

PAGE = reverse("personas:settings")


def form_data(**overrides) -> dict:
    return {
        "name": "Nova",
        "tagline": "Stargazer",
        "bio": "Loves telescopes.",
        "traits": "curious, dreamy, Curious",
        "communication_style": "playful",
        "communication_notes": "",
        "greeting": "Look up!",
        "system_prompt": "",
        "example_dialogue": "",
        **overrides,
    }


def test_page_lists_current_system_and_own_personas(
    signed_in, user, other_user, django_assert_max_num_queries
):
    PersonaFactory(owner=user, name="Mine")
    PersonaFactory(owner=other_user, name="Theirs")
    with django_assert_max_num_queries(9):  # one of them: every lorebook of the modal
        response = signed_in.get(PAGE)
    with django_assert_max_num_queries(1):  # the page cached: the user is read, nothing else
        assert signed_in.get(PAGE).status_code == 200
    html = response.content.decode()
    assert response.status_code == 200
    for name in ["Isabella", "Alex", "Luna", "Maya", "Sam", "Ethan", "Mine"]:
        assert name in html
    assert "Theirs" not in html
    assert response.context["current"].slug == "isabella"
    assert 'aria-current="page">My personas</a>' in html


def test_the_page_is_named_in_sentence_case_everywhere(signed_in):
    """The page is "My personas" in sentence case, as every heading of the site: title,
    heading, menu and the chat page's way there when no persona is left."""
    html = signed_in.get(PAGE).content.decode()
    assert "<title>My personas · MyBella</title>" in html
    assert "<h1>My personas</h1>" in html
    assert '<h2 id="mine-title">My personas</h2>' in html
    assert "My Personas" not in html
    PersonaProfile.objects.update(is_active=False)
    chat = signed_in.get(reverse("chat:page")).content.decode()
    assert "No one to talk to yet" in chat
    assert ">Go to my personas</a>" in chat and "My Personas" not in chat


def test_page_query_count_does_not_grow_with_personas(
    signed_in, user, django_assert_max_num_queries
):
    PersonaFactory.create_batch(40, owner=user)
    with django_assert_max_num_queries(9):  # one of them: every lorebook of the modal
        assert signed_in.get(PAGE).status_code == 200
    with django_assert_max_num_queries(1):
        assert signed_in.get(PAGE).status_code == 200


def test_create_with_avatar(signed_in, user):
    data = form_data(avatar=SimpleUploadedFile("me.png", image_bytes("PNG", (300, 200))))
    response = signed_in.post(reverse("personas:create"), data)
    assert response.status_code == 302
    nova = PersonaProfile.objects.get(owner=user, name="Nova")
    assert nova.traits == ["curious", "dreamy"]
    assert nova.avatar.name.endswith(".webp")


def test_create_with_errors_reopens_the_modal(signed_in, user):
    response = signed_in.post(reverse("personas:create"), form_data(name=""))
    assert response.status_code == 400
    assert response.context["open_modal"] == "persona"
    assert "This field is required." in response.content.decode()
    response = signed_in.post(
        reverse("personas:create"),
        form_data(avatar=SimpleUploadedFile("x.png", b"not an image at all")),
    )
    assert response.status_code == 400
    assert "Upload a PNG, JPEG, WebP or GIF image." in response.content.decode()
    assert not PersonaProfile.objects.filter(owner=user).exists()


def test_duplicate_name_error_is_on_the_name_field(signed_in, user):
    PersonaFactory(owner=user, name="Nova")
    response = signed_in.post(reverse("personas:create"), form_data(name="nova"))
    assert response.status_code == 400
    assert "You already have a persona named" in str(
        response.context["persona_form"].errors["name"]
    )


def test_edit_own_persona_and_remove_avatar(signed_in, user):
    persona = PersonaFactory(owner=user, name="Old")
    signed_in.post(
        reverse("personas:edit", args=[persona.pk]),
        form_data(name="New", avatar=SimpleUploadedFile("a.gif", image_bytes("GIF"))),
    )
    persona.refresh_from_db()
    assert persona.name == "New" and persona.avatar
    signed_in.post(
        reverse("personas:edit", args=[persona.pk]), form_data(name="New", remove_avatar="on")
    )
    persona.refresh_from_db()
    assert not persona.avatar


def test_edit_data_is_embedded_for_the_modal(signed_in, user):
    persona = PersonaFactory(owner=user, name="Nova", traits=["a", "b"])
    html = signed_in.get(PAGE).content.decode()
    start = html.index(">", html.index('id="persona-data"')) + 1
    data = json.loads(html[start : html.index("</script>", start)])
    assert data[str(persona.pk)]["traits"] == "a, b"
    assert data[str(persona.pk)]["name"] == "Nova"


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_other_users_and_system_personas_are_404_for_edit_and_delete(signed_in, other_user, action):
    theirs = PersonaFactory(owner=other_user)
    luna = PersonaProfile.objects.get(slug="luna")
    for persona in (theirs, luna):
        response = signed_in.post(reverse(f"personas:{action}", args=[persona.pk]), form_data())
        assert response.status_code == 404
    assert PersonaProfile.objects.filter(pk=theirs.pk, name=theirs.name).exists()
    assert PersonaProfile.objects.filter(slug="luna", name="Luna").exists()


def test_select_and_delete(signed_in, user):
    mine = PersonaFactory(owner=user, name="Mine")
    signed_in.post(reverse("personas:select", args=[mine.pk]))
    assert signed_in.get(PAGE).context["current"] == mine
    response = signed_in.post(reverse("personas:delete", args=[mine.pk]), follow=True)
    assert "was deleted, with their conversations and memories" in response.content.decode()
    assert response.context["current"].slug == "isabella"


def test_select_goes_back_to_a_safe_next(signed_in, user):
    """Selecting from another page (chat's switcher) returns there; the persona is selected."""
    mine = PersonaFactory(owner=user, name="Mine")
    url = reverse("personas:select", args=[mine.pk])
    response = signed_in.post(f"{url}?next=/chat/%3Fpersona%3D{mine.pk}")
    assert response.status_code == 302
    assert response.url == f"/chat/?persona={mine.pk}"
    assert signed_in.get(PAGE).context["current"] == mine
    response = signed_in.post(url, {"next": "/users/memory/"})
    assert response.url == "/users/memory/"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/chat/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "chat",
        "home",
    ],
)
def test_select_ignores_a_next_elsewhere(signed_in, user, next_url):
    """A `next` that is not a path on this site falls back to the persona page."""
    mine = PersonaFactory(owner=user)
    response = signed_in.post(reverse("personas:select", args=[mine.pk]), {"next": next_url})
    assert response.status_code == 302
    assert response.url == PAGE


def test_select_other_users_persona_is_404(signed_in, other_user):
    theirs = PersonaFactory(owner=other_user)
    assert signed_in.post(reverse("personas:select", args=[theirs.pk])).status_code == 404


def test_get_on_post_only_urls_is_405(signed_in, user):
    mine = PersonaFactory(owner=user)
    assert signed_in.get(reverse("personas:delete", args=[mine.pk])).status_code == 405


def test_import_and_export_from_the_page(signed_in, user):
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Imported", "personality": "bold, kind"},
    }
    upload = SimpleUploadedFile("c.json", json.dumps(card).encode())
    assert signed_in.post(reverse("personas:import"), {"card": upload}).status_code == 302
    persona = PersonaProfile.objects.get(owner=user, name="Imported")
    assert persona.traits == ["bold", "kind"]
    response = signed_in.get(reverse("personas:export", args=[persona.pk]), {"format": "png"})
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="imported.card.png"'


@pytest.mark.parametrize("where", ["page", "api"])
def test_a_card_is_named_after_its_persona_in_any_script(signed_in, user, where):
    """A name in another script names the downloaded file too (RFC 6266 `filename*`),
    rather than every such card coming down as "persona.card.json"."""
    persona = PersonaFactory(owner=user, name="日本 Ünï")
    url = (
        reverse("personas:export", args=[persona.pk])
        if where == "page"
        else f"/api/v1/personas/{persona.pk}/card/"
    )
    response = signed_in.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E6%97%A5%E6%9C%AC-%C3%BCn%C3%AF.card.json"
    )


def test_bad_import_shows_the_reason(signed_in):
    response = signed_in.post(
        reverse("personas:import"), {"card": SimpleUploadedFile("c.json", b"{oops")}
    )
    assert response.status_code == 400
    assert response.context["open_modal"] == "import"
    assert "not valid JSON" in response.content.decode()


# ---------------------------------------------------------------- one rule with the API


@pytest.mark.parametrize("fmt", ["xml", "gif", ""])
def test_export_of_an_unknown_format_is_400(signed_in, user, fmt):
    """Like the API: only json (the default) and png; anything else is refused."""
    persona = PersonaFactory(owner=user)
    response = signed_in.get(reverse("personas:export", args=[persona.pk]), {"format": fmt})
    assert response.status_code == 400
    assert "json or png" in response.content.decode()
    default = signed_in.get(reverse("personas:export", args=[persona.pk]))
    assert (default.status_code, default["Content-Type"]) == (200, "application/json")


def test_export_of_someone_elses_persona_is_404(signed_in, other_user):
    theirs = PersonaFactory(owner=other_user)
    assert signed_in.get(reverse("personas:export", args=[theirs.pk])).status_code == 404


def test_too_many_traits_is_a_form_error_not_a_cut(signed_in, user):
    traits = ", ".join(f"t{n}" for n in range(13))
    response = signed_in.post(reverse("personas:create"), form_data(traits=traits))
    assert response.status_code == 400
    assert "at most 12 traits" in str(response.context["persona_form"].errors["traits"])
    assert not PersonaProfile.objects.filter(owner=user).exists()


def test_a_persona_may_share_a_system_personas_name(signed_in, user):
    assert signed_in.post(reverse("personas:create"), form_data(name="Luna")).status_code == 302
    assert PersonaProfile.objects.filter(owner=user, name="Luna").exists()


def test_saving_the_form_unchanged_writes_nothing(signed_in, user):
    persona = PersonaFactory(
        owner=user, **{k: v for k, v in form_data().items() if k != "traits"}, traits=["a", "b"]
    )
    before = persona.updated_at
    response = signed_in.post(reverse("personas:edit", args=[persona.pk]), form_data(traits="a, b"))
    assert response.status_code == 302
    persona.refresh_from_db()
    assert persona.updated_at == before


def test_text_fields_carry_their_limit_to_the_browser(signed_in):
    from mybella.core import limits

    html = signed_in.get(PAGE).content.decode()
    assert f'maxlength="{limits.PERSONA_BIO_MAX_CHARS}"' in html
    assert f'maxlength="{limits.PERSONA_TAGLINE_MAX_CHARS}"' in html


def test_the_cached_dialogs_carry_each_visitors_own_csrf_token(client, user, other_user):
    """The dialogs are rendered once per user; the token in their forms is the request's."""
    from django.test import Client

    tokens = []
    for who in (user, user, other_user):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(who)
        html = browser.get(PAGE).content.decode()
        assert "csrf-placeholder" not in html
        found = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert len(found) >= 3
        tokens.append(found[-1])  # the last dialog's
        created = browser.post(reverse("personas:create"), form_data(csrfmiddlewaretoken=found[-1]))
        assert created.status_code == 302  # the token works
        PersonaProfile.objects.filter(owner=who, name="Nova").delete()
    assert len(set(tokens)) == 3


def _card_line(html: str, name: str) -> str | None:
    """Return the text under the name on `name`'s card, or None when it shows none."""
    card = re.search(
        rf'<article class="persona-card[^"]*"[^>]*aria-label="{name}">.*?</article>', html, re.S
    )
    assert card, name
    line = re.search(r'<p class="tagline">(.*?)</p>', card[0], re.S)
    return line[1] if line else None


def test_a_card_without_a_tagline_shows_the_start_of_the_bio(signed_in, user):
    """Under the name: the tagline, else the bio's start in one line, macros filled and
    W++ and <START> left out, cut at a word; nothing at all when neither says anything."""
    PersonaFactory(owner=user, name="Tag", tagline="Stargazer", bio="Loves telescopes.")
    PersonaFactory(owner=user, name="Bio", tagline="", bio="  {{char}} maps\n\nthe stars.  ")
    PersonaFactory(
        owner=user,
        name="Long",
        tagline="",
        bio='<START>\n[character("Long") { Species("Elf") }] ' + "Tells stories, " * 20,
    )
    PersonaFactory(owner=user, name="Word", tagline="", bio="W" * 150)
    PersonaFactory(owner=user, name="Markup", tagline="", bio="<b>Bold</b> & co")
    PersonaFactory(owner=user, name="Blank", tagline="", bio="")
    PersonaFactory(owner=user, name="Lists", tagline="", bio='[Likes: "tea", "books"]')
    html = signed_in.get(PAGE).content.decode()
    assert _card_line(html, "Tag") == "Stargazer"
    assert _card_line(html, "Bio") == "Bio maps the stars."
    assert _card_line(html, "Long") == "Tells stories, " * 4 + "Tells…"  # 66 characters
    assert _card_line(html, "Word") == "W" * 69 + "…"
    assert _card_line(html, "Markup") == "&lt;b&gt;Bold&lt;/b&gt; &amp; co"
    assert _card_line(html, "Blank") is None
    assert _card_line(html, "Lists") is None
    assert _card_line(html, "Isabella")  # a system persona's tagline, as before
