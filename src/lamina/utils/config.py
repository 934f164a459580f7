"""`Config`: a dict of settings that also reads and writes as attributes, and can be frozen."""

from __future__ import annotations

import copy
import difflib
import json
from typing import Any, Iterator


class Config:
    """Settings held by name: `config.learning_rate` and `config["learning_rate"]` are the same entry.

    `freeze()` makes every later change raise ValueError (until `unfreeze()`), so that a configuration shared
    by several parts of a program cannot drift.
    """

    _OWN = ("_settings", "_frozen")

    def __init__(self, **settings: Any) -> None:
        object.__setattr__(self, "_settings", dict(settings))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        object.__setattr__(self, "_frozen", False)

    def _check_mutable(self) -> None:
        if self._frozen:
            raise ValueError("This Config is frozen: call unfreeze() before changing its entries.")

    def as_dict(self) -> dict[str, Any]:
        return copy.copy(self._settings)

    def to_json(self) -> str:
        return json.dumps(self._settings)

    def keys(self) -> Any:
        return self._settings.keys()

    def values(self) -> Any:
        return self._settings.values()

    def items(self) -> Any:
        return self._settings.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self._settings.get(key, default)

    def pop(self, *args: Any) -> Any:
        self._check_mutable()
        return self._settings.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._check_mutable()
        self._settings.update(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        settings = object.__getattribute__(self, "_settings")
        if name in settings:
            return settings[name]
        message = f"Config has no entry {name!r}."
        close = difflib.get_close_matches(name, [str(key) for key in settings], n=1, cutoff=0.7)
        raise AttributeError(message + (f" Did you mean {close[0]!r}?" if close else ""))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._OWN or hasattr(type(self), name):
            raise AttributeError(f"{name!r} is a method or property of Config, not an entry; use config[{name!r}].")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_mutable()
        self._settings[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._settings[key]

    def __delitem__(self, key: str) -> None:
        self._check_mutable()
        del self._settings[key]

    def __contains__(self, key: object) -> bool:
        return key in self._settings

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def __repr__(self) -> str:
        return f"<Config {self._settings!r}>"
