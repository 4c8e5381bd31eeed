"""Macros are filled one way everywhere; card text is shown formatted and inert."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from personas.macros import fill_macros, greetings_for, user_name_for, user_name_sources
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


def test_a_missing_user_name_reads_you():
    assert fill_macros("Hi {{user}}", char="Mira", user="") == "Hi you"


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
