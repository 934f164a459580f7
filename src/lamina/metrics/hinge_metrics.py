"""Placeholder until these metrics are written; it exports nothing yet."""

__all__: list[str] = []
