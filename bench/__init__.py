"""`make bench`: seed large databases and time the chat, history and memory-search requests."""
