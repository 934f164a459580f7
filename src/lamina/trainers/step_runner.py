"""Runs a model's steps on the device: compiles them once, feeds them the state, stores what they return.

A step call and the storing of its result are one unit that Ctrl-C cannot split: on jax the call consumes
(donates) the old buffers, so an interrupt between the two would leave every variable pointing at freed
memory; on torch it would leave an optimizer update half applied. An interrupt that arrives meanwhile is
raised right after, with the model at the last completed step.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

from lamina import backend, distribution
from lamina.trainers.step import Steps
from lamina.utils import tree

MODES = ("auto", "eager", "jit")


class _Interrupts:
    """SIGINT as the steps see it: held while a step runs, delivered at once between steps.

    `guarded()` installs one handler for a whole loop (a fit, an evaluate), so that each step only raises and
    lowers a flag; outside such a loop, `deferred()` installs a handler for the one step.
    """

    def __init__(self) -> None:
        self.installed = False
        self.in_step = False
        self.pending: tuple | None = None
        self.previous: Any = None

    def _handle(self, number: int, frame: Any) -> None:
        if self.in_step:
            self.pending = (number, frame)
        else:
            self._deliver(number, frame)

    def _deliver(self, number: int, frame: Any) -> None:
        if callable(self.previous):
            self.previous(number, frame)  # the default handler raises KeyboardInterrupt here
        elif self.previous == signal.SIG_DFL:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.raise_signal(signal.SIGINT)

    @contextlib.contextmanager
    def guarded(self) -> Iterator[None]:
        """The handler installed for the block (main thread only, and once when nested)."""
        if self.installed or threading.current_thread() is not threading.main_thread():
            yield
            return
        self.previous = signal.signal(signal.SIGINT, self._handle)
        self.installed, self.pending = True, None
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold back SIGINT inside the block and deliver it at the end (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        if not self.installed:
            with self.guarded(), self.deferred():
                yield
            return
        self.in_step = True
        try:
            yield
        finally:
            self.in_step = False
            if self.pending is not None:
                pending, self.pending = self.pending, None
                self._deliver(*pending)


_INTERRUPTS = _Interrupts()
interrupts_deferred = _INTERRUPTS.deferred
interrupts_guarded = _INTERRUPTS.guarded


def step_mode(run_eagerly: bool, jit_compile: Any) -> str:
    """How steps run, from compile's arguments: 'eager', 'jit' or 'auto' (the backend's fastest)."""
    if run_eagerly:
        return "eager"
    if jit_compile is True:
        return "jit"
    return "eager" if jit_compile is False else "auto"


class StepRunner:
    """The compiled train/test/predict steps of one model, for one set of trainable variables."""

    def __init__(self, model: Any, mode: str = "auto") -> None:
        B = backend.impl
        self.steps = Steps(model)
        distribution.current().prepare([v for group in self.steps.groups for v in group])
        self.trainable_ids = tuple(id(v) for v in self.steps.trainable)
        self.steps_per_call = B.steps_per_call(int(getattr(model, "steps_per_execution", 1) or 1))
        self.mode = mode
        self._compiled: dict[str, Any] = {}
        # The logs the model's own train_step/test_step returned for the last batch (None with Lamina's steps).
        self.last_logs: dict[str, Any] | None = None

    def _step(self, kind: str) -> Any:
        """The compiled step of this kind, made on first use (numpy never makes a train step)."""
        if kind not in self._compiled:
            function = self.steps.function(kind)
            own_step = self.steps.user_steps[kind] is None
            self._compiled[kind] = backend.impl.compile_step(function, self.mode, donate_state=kind != "predict",
                                                             whole_graph=own_step)
        return self._compiled[kind]

    def _weights_state(self) -> tuple:
        """The state a predict step needs: the weights only, not the optimizer's or the metrics'."""
        values = backend.impl.state_values
        return values(self.steps.trainable), values(self.steps.non_trainable), [], []

    # --- training and evaluation: state in, state stored -------------------------------------------

    def train_arrays(self, data: tuple, order: Any, offset: int, steps: int, batch_size: int) -> None:
        """`steps` steps on the samples order[offset:], batch_size at a time."""
        self._advance("train", lambda step, state: step.over_rows(state, data, order, offset, steps, batch_size),
                      steps > 1)

    def train_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        self._advance("train", lambda step, state: step(state, (x, y, sample_weight)))

    def test_arrays(self, data: tuple, order: Any, offset: int, steps: int, batch_size: int) -> None:
        self._advance("test", lambda step, state: step.over_rows(state, data, order, offset, steps, batch_size),
                      steps > 1)

    def test_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        self._advance("test", lambda step, state: step(state, (x, y, sample_weight)))

    def _advance(self, kind: str, run: Any, several: bool = False) -> None:
        """Run the step of this kind on the current state and store the result, as one unit. After `several`
        steps in one call, the logs of each step come stacked: the last step's are kept."""
        step = self._step(kind)
        with interrupts_deferred():
            state, logs = run(step, self.steps.state())
            self.steps.store(state)
        if logs is not None:
            self.last_logs = tree.map_structure(lambda t: t[-1], logs) if several else logs

    # --- inference: weights in, outputs out --------------------------------------------------------

    def predict_arrays(self, x: Any, order: Any, offset: int, steps: int, batch_size: int) -> Any:
        return self._predicted(self._step("predict").over_rows(self._weights_state(), x, order, offset, steps,
                                                               batch_size))

    def predict_batch(self, x: Any) -> Any:
        return self._predicted(self._step("predict")(self._weights_state(), x))

    def _predicted(self, result: tuple) -> Any:
        """The outputs of a predict step; the state it returned (a stateful layer's) is stored."""
        state, outputs = result
        if state is not None:
            values = backend.impl.state_values
            self.steps.store((state[0], state[1], values(self.steps.optimizer_variables),
                              values(self.steps.metric_variables)))
        return outputs
