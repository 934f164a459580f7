"""A training step replayed as a CUDA graph: the per-step cost of launching kernels from Python goes away.

The step's state (variables, optimizer slots, metric accumulators) lives in fixed device memory and is
updated in place, so only the batch needs static buffers; each batch is gathered straight into them.
The first steps of every batch shape run eagerly on a side stream (they train as usual) so that lazy
initialisation happens before the capture; a step that cannot be captured falls back to eager.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch

from lamina.backend.common import map_leaves

WARMUP_STEPS = 3


class _Graph:
    """One captured step for one batch signature, with its static batch and output buffers."""

    def __init__(self, graph: torch.cuda.CUDAGraph, batch: Any, output: Any) -> None:
        self.graph, self.batch, self.output = graph, batch, output


class CudaGraphStep:
    """Runs step_fn(state, batch) -> (state, output), replaying one CUDA graph per batch shape."""

    def __init__(self, step_fn: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.step_fn = step_fn
        self._graphs: dict[tuple, _Graph] = {}
        self._warmups: dict[tuple, int] = {}
        self._failed = False

    def __call__(self, state: Any, batch: Any) -> tuple[Any, Any]:
        return self._run(state, batch, lambda static: map_leaves(lambda s, b: s.copy_(b), static, batch))

    def run_rows(self, state: Any, data: Any, rows: torch.Tensor) -> tuple[Any, Any]:
        """One step on data[rows], gathered on the device into the static input buffers."""
        def fill(static: Any) -> None:
            map_leaves(lambda s, d: torch.index_select(d, 0, rows, out=s), static, data)

        if self._failed:
            return self.step_fn(state, map_leaves(lambda t: t.index_select(0, rows), data))
        key = _signature(data, rows)
        if key in self._graphs:
            return self._replay(self._graphs[key], state, fill)
        return self._run(state, map_leaves(lambda t: t.index_select(0, rows), data), fill, key)

    def _run(self, state: Any, batch: Any, fill: Callable[[Any], None], key: tuple | None = None) -> tuple[Any, Any]:
        if self._failed:
            return self.step_fn(state, batch)
        key = key if key is not None else _signature(batch)
        if key in self._graphs:
            return self._replay(self._graphs[key], state, fill)
        done = self._warmups.get(key, 0)
        if done < WARMUP_STEPS:
            self._warmups[key] = done + 1
            return self._on_side_stream(state, batch)
        captured = self._capture(state, batch)
        if captured is None:
            return self.step_fn(state, batch)
        self._graphs[key] = captured
        return self._replay(captured, state, fill)

    def _on_side_stream(self, state: Any, batch: Any) -> tuple[Any, Any]:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            result = self.step_fn(state, batch)
        torch.cuda.current_stream().wait_stream(stream)
        return result

    def _capture(self, state: Any, batch: Any) -> _Graph | None:
        static_batch = map_leaves(lambda t: t.clone(), batch)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                _, output = self.step_fn(state, static_batch)
        except Exception as error:  # noqa: BLE001 - any capture failure means: run this step eagerly
            self._failed = True
            warnings.warn(f"lamina: the step could not be captured as a CUDA graph ({type(error).__name__}: "
                          f"{error}); it runs eagerly instead.", RuntimeWarning, stacklevel=4)
            return None
        return _Graph(graph, static_batch, output)

    @staticmethod
    def _replay(captured: _Graph, state: Any, fill: Callable[[Any], None]) -> tuple[Any, Any]:
        fill(captured.batch)
        captured.graph.replay()
        # The output buffers are overwritten by the next replay: hand out copies.
        output = None if captured.output is None else map_leaves(lambda t: t.clone(), captured.output)
        return state, output


def _signature(data: Any, rows: torch.Tensor | None = None) -> tuple:
    leaves: list = []
    map_leaves(leaves.append, data)
    count = None if rows is None else rows.shape[0]
    return tuple((tuple(t.shape[1:]) if count is not None else tuple(t.shape), t.dtype) for t in leaves) + (count,)
