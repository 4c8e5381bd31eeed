"""Small loopback servers that stand in for remote paid APIs, so the real SDKs run."""
