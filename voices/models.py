"""Voice presets and custom voices arrive with the voices issue (#4)."""
