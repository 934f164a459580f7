"""Placeholder until this callback is written; it exports nothing yet."""

__all__: list[str] = []
