"""Fixtures shared by the chat tests."""

import pytest


@pytest.fixture
def llm(fake_llm, settings):
    """The fake model without embeddings, so that its chat requests are the only ones."""
    settings.LLM_EMBEDDING_MODEL = ""
    return fake_llm
