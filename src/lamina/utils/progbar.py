"""Progbar: the text progress bar of custom training loops (`update(step, [("loss", value)])`)."""

from __future__ import annotations

import sys
import time
from typing import Any, Iterable

import numpy as np

__all__ = ["Progbar"]


def _progbar_logger() -> Any:
    """The fit progress bar's formatting helpers (imported late: callbacks import lamina.utils)."""
    from lamina.callbacks import progbar_logger

    return progbar_logger


class Progbar:
    """A progress bar over `target` steps (None: unknown) with running values.

    Values are averaged over the steps they were reported for, except stateful ones (shown as given):
    name those in `stateful_metrics`, or name the averaged ones in `stateless_metrics` (not both).
    verbose=1 redraws one line at most every `interval` seconds; verbose=2 prints one line at the end.
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, stateless_metrics: Iterable[str] | None = None,
                 unit_name: str = "step") -> None:
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar takes stateful_metrics or stateless_metrics, not both: metrics are "
                             "averaged unless listed in stateful_metrics, or only those in stateless_metrics are.")
        if target is not None and (isinstance(target, bool) or not isinstance(target, (int, np.integer))
                                   or target < 0):
            raise ValueError(f"Progbar target must be a non-negative integer or None, got {target!r}.")
        self.target, self.width, self.verbose, self.interval = target, int(width), verbose, float(interval)
        self.unit_name = unit_name
        self.stateless_metrics = set(stateless_metrics) if stateless_metrics is not None else None
        self.stateful_metrics = set(stateful_metrics or ()) if self.stateless_metrics is None else None
        self._dynamic = _progbar_logger()._is_interactive()
        self._values: dict[str, list[float]] = {}
        self._values_order: list[str] = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._previous_width = 0

    def _averaged(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current: int, values: Iterable[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Move to step `current`, reporting `(name, value)` pairs for the steps since the last update."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            value = float(np.asarray(value))
            if name not in self._values_order:
                self._values_order.append(name)
            if self._averaged(name) and not finalize:
                base = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * base, count + base]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current
        now = time.time()
        if self.verbose == 1:
            if not finalize and now - self._last_update < self.interval:
                return
            self._write(self._line(current, now, finalize), finalize)
        elif self.verbose == 2 and finalize:
            self._write(self._summary(current, now), True)
        self._last_update = now

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        """Advance by n steps."""
        self.update(self._seen_so_far + n, values)

    def _value_text(self) -> str:
        parts = []
        for name in self._values_order:
            total, count = self._values[name]
            mean = total / max(count, 1)
            parts.append(f" - {name}: {mean:.4f}" if abs(mean) > 1e-3 else f" - {name}: {mean:.4e}")
        return "".join(parts)

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        filled = int(self.width * min(current, self.target) / self.target) if self.target else self.width
        arrow = ">" if 0 < filled < self.width and current < self.target else ("=" if filled else "")
        bar = "=" * max(filled - 1, 0) + arrow if filled else ""
        return f"{current:{digits}d}/{self.target} [{bar}{'.' * (self.width - len(bar))}]"

    def _line(self, current: int, now: float, finalize: bool) -> str:
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        if finalize:
            timing = f" {self._timing(elapsed, per_unit)}"
        elif self.target is not None and current:
            timing = f" - ETA: {_progbar_logger()._format_eta(per_unit * (self.target - current))}"
        else:
            timing = ""
        return self._bar(current) + timing + self._value_text()

    def _summary(self, current: int, now: float) -> str:
        count = f"{current}/{self.target}" if self.target is not None else f"{current}/Unknown"
        elapsed = now - self._start
        per_unit = elapsed / current if current else 0.0
        return f"{count} - {self._timing(elapsed, per_unit)}" + self._value_text()

    def _timing(self, elapsed: float, per_unit: float) -> str:
        """`2s 10ms/step`, in this bar's unit."""
        return f"{int(elapsed)}s {_progbar_logger()._format_per_step(per_unit).replace('step', self.unit_name)}"

    def _write(self, line: str, finalize: bool) -> None:
        if self._dynamic:
            padding = " " * max(self._previous_width - len(line), 0)
            sys.stdout.write("\r" + line + padding + ("\n" if finalize else ""))
        elif finalize or self.verbose == 1:
            sys.stdout.write(line + "\n")
        self._previous_width = len(line)
        sys.stdout.flush()
