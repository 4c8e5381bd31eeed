"""Talking to the outside: language models (`llm`) and speech engines (`speech`).

Nothing here imports an app: apps hand providers plain data and get plain data back.
"""
