"""`Registry`: how a higher app plugs into a lower one, in a known order, once."""

from dataclasses import dataclass

import pytest

from mybella.core.hooks import Registry


@dataclass(frozen=True)
class Section:
    name: str
    template: str


def contribute_names() -> str:
    return "names"


def contribute_facts() -> str:
    return "facts"


def test_items_come_back_in_registration_order():
    sections: Registry[Section] = Registry("sections")
    voice = sections.register(Section("voice", "voices/_section.html"))
    sections.register(Section("extras", "extras/_section.html"))
    assert voice == Section("voice", "voices/_section.html")
    assert [section.name for section in sections] == ["voice", "extras"]
    assert sections.names() == ["voice", "extras"]
    assert len(sections) == 2
    assert "voice" in sections
    assert sections["extras"].template == "extras/_section.html"


def test_register_works_as_a_decorator_named_by_dotted_path():
    contributors: Registry = Registry("contributors")
    contributors.register(contribute_names)
    contributors.register(contribute_facts)
    assert [contribute() for contribute in contributors] == ["names", "facts"]
    assert contributors.names() == [
        f"{__name__}.contribute_names",
        f"{__name__}.contribute_facts",
    ]


def test_registering_the_same_item_twice_keeps_one():
    """A module imported twice registers nothing new."""
    sections: Registry[Section] = Registry("sections")
    sections.register(Section("voice", "a.html"))
    sections.register(Section("voice", "a.html"))
    assert len(sections) == 1


def test_another_item_under_a_taken_name_is_refused():
    sections: Registry[Section] = Registry("sections")
    sections.register(Section("voice", "a.html"))
    with pytest.raises(ValueError, match="'voice'"):
        sections.register(Section("voice", "b.html"))
    assert sections["voice"].template == "a.html"


def test_override_replaces_the_items_for_a_test_and_restores_them():
    sections: Registry[Section] = Registry("sections")
    sections.register(Section("voice", "a.html"))
    with sections.override(Section("only", "o.html")) as overridden:
        assert overridden is sections
        assert sections.names() == ["only"]
    assert sections.names() == ["voice"]


def test_override_restores_the_items_after_an_error():
    sections: Registry[Section] = Registry("sections")
    sections.register(Section("voice", "a.html"))

    def fail_inside() -> None:
        with sections.override():
            assert list(sections) == []
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert sections.names() == ["voice"]


def test_iterating_while_registering_sees_a_snapshot():
    contributors: Registry = Registry("contributors")
    contributors.register(contribute_names)
    for _ in contributors:
        contributors.register(contribute_facts)
    assert len(contributors) == 2
