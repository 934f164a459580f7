"""Process-wide counters: the numbers behind automatic layer names and `get_uid`, reset by `clear_session`."""

from __future__ import annotations

import collections

name_counts: collections.Counter = collections.Counter()  # base name -> names handed out ("dense", "dense_1")
uid_counts: collections.Counter = collections.Counter()  # prefix -> the last uid handed out


def reset() -> None:
    """Forget every name and uid handed out: the next Dense is "dense" again."""
    name_counts.clear()
    uid_counts.clear()
