"""`ProgbarLogger`: Keras-style progress output for fit, evaluate and predict."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Column

from lamina.callbacks.callback import Callback, Logs

REDRAW_INTERVAL = 0.1  # seconds between two reads of the (device-synchronising) logs
BAR_WIDTH = 20


def _is_interactive() -> bool:
    """Whether stdout is a terminal that can redraw a bar in place."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _read_logs(logs: Mapping[str, Any] | None) -> list[tuple[str, float]]:
    """The scalar logs as floats, in Keras's order: training metrics sorted, then `val_` ones."""
    values = []
    for key, value in (logs or {}).items():
        try:
            values.append((key, float(value)))
        except (TypeError, ValueError):  # a non-scalar metric is not shown
            continue
    return sorted(values, key=lambda item: (item[0].startswith("val_"), item[0]))


def _format_values(values: list[tuple[str, float]]) -> str:
    """` - loss: 0.3012 - val_loss: 0.3312`, small values in scientific notation."""
    return "".join(f" - {k}: {v:.4f}" if abs(v) > 1e-3 else f" - {k}: {v:.4e}" for k, v in values)


def _format_per_step(seconds: float) -> str:
    """`2ms/step`, in the unit that keeps the number readable."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _format_eta(seconds: float) -> str:
    """Remaining time as `7s`, `2:05` or `1:02:05`."""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _format_count(seen: int, target: int | None) -> str:
    """`  7/32`, right-aligned to the target's width, or `     7/Unknown`."""
    if target is None:
        return f"{seen:7d}/Unknown"
    return f"{seen:{len(str(target))}d}/{target}"


class _LiveBar:
    """One bar line redrawn in place with rich: `7/32 ━━━━━━━━━━━━ 1s 20ms/step - loss: ...`."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.fields[count]}", markup=False, table_column=Column(no_wrap=True)),
            BarColumn(bar_width=BAR_WIDTH, style="dim", complete_style="bold", finished_style="bold"),
            # On a narrow terminal only the metrics wrap, at word boundaries.
            TextColumn("{task.fields[info]}", markup=False, table_column=Column(overflow="fold")),
            auto_refresh=False,  # redrawn only when the logger decides, no thread
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("", total=None, count="", info="")
        self._started = False

    def show(self, count: str, completed: int, total: int | None, info: str) -> None:
        """Draw the line with these contents."""
        self._progress.update(self._task, completed=completed, total=total, count=count, info=info)
        if self._started:
            self._progress.refresh()
        else:
            self._progress.start()
            self._started = True

    def close(self) -> None:
        """Leave the last drawing on screen, end the line and show the cursor again; idempotent."""
        self._progress.stop()


class ProgbarLogger(Callback):
    """Prints `Epoch i/N` and a progress bar with the running metrics, as Keras does.

    `params["verbose"]`: 0 silent, 1 a bar per epoch (a single final line when
    stdout is not a terminal), 2 one line per epoch. Logs are read at most every
    0.1 s and at the last step, since reading them waits for the device.
    """

    def __init__(self) -> None:
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self.target: int | None = None
        self._in_fit = False
        self._bar: _LiveBar | None = None
        self._begin()

    def set_params(self, params: dict[str, Any]) -> None:
        """Read `verbose`, `epochs` and `steps` (None when unknown)."""
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs: Logs = None) -> None:
        """Enter `fit`: validation inside it draws nothing."""
        self._in_fit = True

    def on_train_end(self, logs: Logs = None) -> None:
        """Leave `fit`."""
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Print `Epoch i/N` and start timing the epoch."""
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        self._begin()

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Count the step; redraw when due."""
        self._step(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Print the epoch's final line, with its `val_` metrics."""
        self._finish(logs)

    def on_test_begin(self, logs: Logs = None) -> None:
        """Start timing `evaluate`."""
        if not self._in_fit:
            self._begin()

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Count the evaluation step; redraw when due."""
        if not self._in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs: Logs = None) -> None:
        """Print the final line of `evaluate` with its metrics."""
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Start timing `predict`."""
        self._begin()

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Count the prediction step (its outputs are not shown); redraw when due."""
        self._step(batch, None)

    def on_predict_end(self, logs: Logs = None) -> None:
        """Print the final line of `predict`, steps and time only."""
        self._finish(None)

    def _begin(self) -> None:
        """Reset the counters of one run of steps (an epoch, evaluate or predict)."""
        self._close_bar()  # a bar left over by an interrupted run
        self._start = time.monotonic()
        self._first_step_end: float | None = None
        self._seen = 0
        live = self.verbose == 1 and _is_interactive()
        # Without a live bar nothing is drawn before the end, so no step is ever due.
        self._next_draw = self._start if live else math.inf
        self._last_step = self.target if live and self.target else -1

    def _step(self, batch: int, logs: Logs) -> None:
        # The hot path: one clock read and two comparisons on most steps.
        now = time.monotonic()
        self._seen = batch + 1
        if self._first_step_end is None:
            self._first_step_end = now
        if now < self._next_draw and self._seen != self._last_step:
            return
        self._next_draw = now + REDRAW_INTERVAL
        if self._bar is None:
            self._bar = _LiveBar()
        per_step = self._per_step(now)
        if self.target and self._seen < self.target:
            clock = _format_eta(per_step * (self.target - self._seen))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f"{clock} {_format_per_step(per_step)}{_format_values(_read_logs(logs))}"
        self._bar.show(_format_count(self._seen, self.target), self._seen, self.target, info)

    def _per_step(self, now: float) -> float:
        """Seconds per step, leaving out the first step (which includes compilation)."""
        if self._seen > 1 and self._first_step_end is not None:
            return (now - self._first_step_end) / (self._seen - 1)
        return (now - self._start) / max(self._seen, 1)

    def _finish(self, logs: Logs) -> None:
        """Print or draw the final line of a run of steps."""
        if not self.verbose:
            return
        now = time.monotonic()
        total = self._seen or self.target or 0
        count = _format_count(total, total)
        elapsed = f"{now - self._start:.0f}s"
        per_step = _format_per_step(self._per_step(now))
        values = _format_values(_read_logs(logs))
        if self.verbose == 2:
            print(f"{count} - {elapsed} - {per_step}{values}", flush=True)
        elif self._bar is not None:
            self._bar.show(count, total, total, f"{elapsed} {per_step}{values}")
            self._close_bar()
        else:
            print(f"{count} {'━' * BAR_WIDTH} {elapsed} {per_step}{values}", flush=True)

    def close(self) -> None:
        """Stop the live bar of an interrupted run, if any; safe to call again or after a normal end."""
        self._close_bar()

    def _close_bar(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()
