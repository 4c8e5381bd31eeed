"""Conversations and messages arrive with the chat issue (#3)."""
