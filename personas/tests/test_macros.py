"""Macros are filled one way everywhere; card text is shown formatted and inert."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from personas.macros import (
    fill_macros,
    greetings_for,
    name_without_macros,
    user_name_for,
    user_name_sources,
)
from personas.models import PersonaProfile
from personas.templatetags.persona_cards import description_html, shares_system_name
from personas.tests.factories import PersonaFactory


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{char}} greets {{user}}.", "Mira greets Sam."),
        ("{{CHAR}} greets {{User}}.", "Mira greets Sam."),
        ("<BOT> greets <user>.", "Mira greets Sam."),
        ("{{charIfNotGroup}}", "Mira"),
        ("{{char}} {0} {user} %s", "Mira {0} {user} %s"),  # never formatted as a template
        ("", ""),
    ],
)
def test_fill_macros(text, expected):
    assert fill_macros(text, char="Mira", user="Sam") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Welcome back, {{user}}.", "Welcome back."),
        ("Hi {{user}}! I'm {{char}}.", "Hi! I'm Mira."),
        ("Hello, {{user}}, it's me.", "Hello, it's me."),
        ("{{user}}, you're back!", "You're back!"),
        ("*{{char}} waves at {{user}}.* Oh, {{user}}!", "*Mira waves at you.* Oh!"),
        ("How was {{user}}'s day?", "How was your day?"),
        ("{{user}} is late. <USER> was here.", "You are late. You were here."),
        ("Dear {{user}}, welcome.", "Welcome."),
        ("Oh, my dear {{user}}, welcome.", "Oh, my dear, welcome."),
        ("<START>\n{{user}}: hi\n{{char}}: hello", "<START>\nYou: hi\nMira: hello"),
        ("I missed {{user}} so much", "I missed you so much"),
    ],
)
@pytest.mark.parametrize("user", ["", "you"])
def test_without_a_user_name_the_text_reads_naturally(text, expected, user):
    """A user without a name (a handle, a visitor) is not called "you" as if it were one."""
    assert fill_macros(text, char="Mira", user=user) == expected


def test_a_user_name_is_filled_where_the_macro_is():
    text = "Welcome back, {{user}}. How was {{user}}'s day?"
    assert fill_macros(text, char="Mira", user="Sam") == "Welcome back, Sam. How was Sam's day?"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("{{user}}'s friend {{char}}", "Friend"),
        ("<BOT> the Brave", "The Brave"),
        ("Luna ({{char}})", "Luna"),
        ("{{char}} & {{user}}", ""),
        ("Seraphina", "Seraphina"),
        ("it's {{char}}", "It's"),
    ],
)
def test_a_name_loses_its_macros(name, expected):
    assert name_without_macros(name) == expected


@pytest.mark.django_db
def test_a_user_with_a_handle_is_welcomed_without_a_vocative(django_user_model):
    handle = django_user_model.objects.create_user(username="newbie20682", password="x" * 16)
    persona = PersonaFactory(owner=handle, name="Mira", greeting="Welcome back, {{user}}.")
    with user_name_sources.override():
        assert greetings_for(user=handle, persona=persona) == ["Welcome back."]


@pytest.mark.django_db
def test_the_user_name_comes_from_a_registered_source_else_the_account(user):
    persona = PersonaFactory(owner=user)
    user.display_name = "Al"
    with user_name_sources.override():
        assert user_name_for(user=user, persona=persona) == "Al"
    with user_name_sources.override(lambda *, user, persona: "Rin"):
        assert user_name_for(user=user, persona=persona) == "Rin"


def test_a_description_is_formatted_and_user_html_stays_text():
    html = description_html(
        '<img src=x onerror="alert(1)"> {{char}} is kind.\n\n'
        '[Likes: "tea", "<script>alert(2)</script>"]\n<START>\n{{user}}: hi',
        char="Mira",
        user="Sam",
    )
    assert "<img" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; Mira is kind." in html
    assert "<dt>Likes</dt><dd>tea, &lt;script&gt;alert(2)&lt;/script&gt;</dd>" in html
    assert "START" not in html
    assert "<p>Sam: hi</p>" in html


@pytest.mark.django_db
def test_card_text_tag_fills_the_requests_user_name(user):
    persona = PersonaFactory(owner=user, name="Mira")
    user.display_name = "Sam"
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load persona_cards %}{% card_text text persona %}")
    context = Context({"request": request, "persona": persona, "text": "<b>{{user}}</b>"})
    assert template.render(context) == "&lt;b&gt;Sam&lt;/b&gt;"


@pytest.mark.django_db
def test_a_users_persona_named_like_a_system_one_is_marked(user):
    luna = PersonaProfile.objects.get(slug="luna")
    mine = PersonaFactory(owner=user, name="LUNA")
    other = PersonaFactory(owner=user, name="Nova")
    personas = [luna, mine, other]
    assert [shares_system_name(p, personas) for p in personas] == [False, True, False]


@pytest.mark.django_db
def test_the_switcher_marks_it(client, user):
    PersonaFactory(owner=user, name="Luna")
    client.force_login(user)
    html = client.get("/chat/").content.decode()
    assert html.count('<span class="switcher-own">(yours)</span>') == 1


@pytest.mark.django_db
def test_greetings_are_the_main_one_then_the_alternates_filled_in(user):
    persona = PersonaFactory(
        owner=user,
        name="Mira",
        greeting="Hi {{user}}.",
        alternate_greetings=["", "{{char}} waves.", "Back, <USER>?"],
    )
    user.display_name = "Sam"
    with user_name_sources.override():
        assert greetings_for(user=user, persona=persona) == [
            "Hi Sam.",
            "Mira waves.",
            "Back, Sam?",
        ]
