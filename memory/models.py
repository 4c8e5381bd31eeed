"""Memories and preferences arrive with the chat and memory issue (#3)."""
