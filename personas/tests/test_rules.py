"""Trait cleaning, one rule for every way in: strict for traits given, lenient for guessed ones."""

import pytest
from django.core.exceptions import ValidationError

from mybella.core import limits
from personas import rules
from personas.models import PersonaProfile

MAX = limits.PERSONA_TRAITS_MAX
LONG = "x" * (limits.PERSONA_TRAIT_MAX_CHARS + 1)


@pytest.mark.parametrize("mode", ["strict", "lenient"])
def test_both_modes_strip_drop_empties_and_keep_the_first_of_duplicates(mode):
    items = [" warm ", "", "Warm", "curious", "  ", "CURIOUS", "witty"]
    assert rules.clean_traits(items, mode=mode) == ["warm", "curious", "witty"]


def test_a_trait_at_the_limit_is_kept():
    trait = "x" * limits.PERSONA_TRAIT_MAX_CHARS
    assert rules.clean_traits([trait], mode="strict") == [trait]


def test_strict_refuses_a_trait_too_long():
    with pytest.raises(ValidationError) as error:
        rules.clean_traits(["kind", LONG], mode="strict")
    assert error.value.code == "max_length"
    assert str(limits.PERSONA_TRAIT_MAX_CHARS) in error.value.messages[0]


def test_strict_refuses_too_many_traits_counted_after_cleaning():
    just_enough = [f"t{n}" for n in range(MAX)]
    assert rules.clean_traits([*just_enough, "T0", " t1 ", ""], mode="strict") == just_enough
    with pytest.raises(ValidationError) as error:
        rules.clean_traits([*just_enough, "one more"], mode="strict")
    assert error.value.code == "too_many"


def test_lenient_skips_traits_too_long_and_keeps_the_first_ones():
    items = [LONG, *[f"t{n}" for n in range(MAX + 3)]]
    assert rules.clean_traits(items, mode="lenient") == [f"t{n}" for n in range(MAX)]


@pytest.mark.parametrize("mode", ["strict", "lenient"])
@pytest.mark.parametrize("items", ["warm, kind", [1, 2], ["ok", None], {"a": 1}, None])
def test_anything_but_a_list_of_strings_is_refused(mode, items):
    with pytest.raises(ValidationError) as error:
        rules.clean_traits(items, mode=mode)
    assert error.value.code == "invalid"


def test_an_unknown_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="mode"):
        rules.clean_traits(["a"], mode="loose")


def test_traits_from_text_splits_on_commas():
    assert rules.traits_from_text("curious, dreamy, Curious,, ") == ["curious", "dreamy"]
    assert rules.traits_from_text("") == []
    with pytest.raises(ValidationError):
        rules.traits_from_text(",".join(f"t{n}" for n in range(MAX + 1)))


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("name", limits.PERSONA_NAME_MAX_CHARS),
        ("tagline", limits.PERSONA_TAGLINE_MAX_CHARS),
        ("bio", limits.PERSONA_BIO_MAX_CHARS),
        ("communication_notes", limits.PERSONA_NOTES_MAX_CHARS),
        ("greeting", limits.PERSONA_GREETING_MAX_CHARS),
        ("example_dialogue", limits.PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS),
        ("system_prompt", limits.PERSONA_SYSTEM_PROMPT_MAX_CHARS),
        ("traits", None),
    ],
)
def test_field_max_chars_reads_the_model_field(field, limit):
    assert rules.field_max_chars(field) == limit
    if limit is not None:
        assert limit == limits.PERSONA_FIELD_MAX_CHARS[field]


def test_every_text_field_a_person_edits_has_a_limit():
    texts = [
        name
        for name in PersonaProfile.EDITABLE_FIELDS
        if PersonaProfile._meta.get_field(name).get_internal_type() in {"CharField", "TextField"}
        and name != "communication_style"
    ]
    assert texts and all(rules.field_max_chars(name) for name in texts)
