"""Placeholder until this optimizer is written; it exports nothing yet."""

__all__: list[str] = []
