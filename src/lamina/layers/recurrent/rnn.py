"""RNN: runs a cell over the time axis; the base of SimpleRNN, LSTM, GRU and ConvLSTM.

A cell is any object with `call(inputs, states)` -> (output, new_states) and `state_size` (an int or a list,
nested for stacked cells), optionally `output_size` and `get_initial_state(batch_size)`. Built-in cells
(`RecurrentCell`) run faster: the input projection of all time steps at once, then the backend's fused
recurrence when no mask, recurrent dropout or unrolling asks for the step loop.

Masks (batch, time): a masked step keeps the previous states, and outputs the previous output (zeros
before the first kept step), or zeros with `zero_output_for_mask` (which Bidirectional sets when it
returns sequences). With go_backwards the outputs come in processing order (reversed time).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from typing import Any, Iterator

from lamina import backend
from lamina.layers.layer import InputSpec, Layer
from lamina.layers.recurrent.cell import RecurrentCell
from lamina.layers.recurrent.stacked_cells import StackedRNNCells
from lamina.utils import tree

_shape_tracing = threading.local()


@contextlib.contextmanager
def tracing_shapes() -> Iterator[None]:
    """Within: calls only infer shapes (a symbolic build), so stateful layers neither read nor write states."""
    depth = getattr(_shape_tracing, "depth", 0)
    _shape_tracing.depth = depth + 1
    try:
        yield
    finally:
        _shape_tracing.depth = depth


def is_tracing_shapes() -> bool:
    return getattr(_shape_tracing, "depth", 0) > 0


class TracesShapes(Layer):
    """A layer whose symbolic calls (and compute_output_shape) run inside `tracing_shapes`."""

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        with tracing_shapes():
            return super()._symbolic_call(args, kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        with tracing_shapes():
            return super().compute_output_shape(input_shape)


class RecurrentStates:
    """The state variables of a stateful RNN: carried through compiled steps like random state, not weights."""

    def __init__(self) -> None:
        self.variables: list[Any] = []


def _entries(state_size: Any) -> list[Any]:
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


def state_structure(state_size: Any) -> list[Any]:
    """The states of one call as a (nested) list of placeholders, shaped like `state_size`.

    An int or a tuple entry is one state ((batch, size) or (batch, *shape)); a list entry is a group
    (one stacked cell's states).
    """
    return [state_structure(entry) if isinstance(entry, list) else None for entry in _entries(state_size)]


def zero_states_of(state_size: Any, batch: int, dtype: Any) -> list[Any]:
    """Zeros for every state of `state_size`, nested as `state_structure`."""
    return [zero_states_of(entry, batch, dtype) if isinstance(entry, list)
            else backend.impl.zeros((batch, *(entry if isinstance(entry, tuple) else (entry,))), dtype)
            for entry in _entries(state_size)]


def _several(shape: Any) -> bool:
    """Whether `shape` is a list of shapes (several input sequences) rather than one shape."""
    return isinstance(shape, (list, tuple)) and bool(shape) and isinstance(shape[0], (list, tuple))


def fresh(tensor: Any) -> Any:
    """A new tensor with the variable's value: the variable is overwritten in place after the call."""
    return backend.impl.add(tensor, 0.0)


class RNN(TracesShapes):
    """The generic recurrent layer: `RNN(cell)` or `RNN([cell, cell])` (stacked)."""

    casts_inputs = True

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs: Any) -> None:
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"RNN cell must have a call(inputs, states) method, got {cell!r:.100}.")
        if not isinstance(getattr(cell, "state_size", None), (int, list, tuple)):
            raise ValueError(f"RNN cell must have a state_size (an int or a list of ints), got "
                             f"{getattr(cell, 'state_size', None)!r} on {cell!r:.100}.")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), bool(stateful), bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._states_holder = RecurrentStates()
        if self.stateful:
            self._seed_generators.append(self._states_holder)
        cell_call = cell.__call__ if isinstance(cell, Layer) else cell.call
        takes_training = "training" in inspect.signature(cell.call).parameters
        self._cell_step = (lambda x, s, training: cell_call(x, s, training=training)) if takes_training \
            else (lambda x, s, training: cell_call(x, s))
        self.input_spec = InputSpec(min_ndim=3)

    @property
    def states(self) -> list[Any] | None:
        """The state variables of a stateful layer (None until its batch size is known)."""
        return self._states_holder.variables or None

    # --- building and states -------------------------------------------------------------------

    def build(self, sequences_shape: Any) -> None:
        several = _several(sequences_shape)
        for shape in sequences_shape if several else [sequences_shape]:
            if len(shape) < 3:
                raise ValueError(f"{type(self).__name__} {self.name!r} expected input of rank 3 or more (batch, "
                                 f"timesteps, features), got shape {tuple(shape)}.")
        step_shapes = [(shape[0], *shape[2:]) for shape in (sequences_shape if several else [sequences_shape])]
        step_shape = step_shapes if several else step_shapes[0]
        if isinstance(self.cell, Layer):
            self.cell._build_for(step_shape)
        elif callable(getattr(self.cell, "build", None)) and not getattr(self.cell, "built", False):
            self.cell.build(step_shape)
            self.cell.built = True
        batch = step_shapes[0][0]
        if batch is None and self._input_shape_argument is not None:
            batch = self._input_shape_argument[0]
        if self.stateful and batch is not None:
            self._create_states((batch, *step_shapes[0][1:]))

    def _create_states(self, step_shape: tuple) -> None:
        B = backend.impl
        self._states_holder.variables = [
            B.Variable(B.convert_to_numpy(value), dtype=self.dtype, trainable=False, name="rnn_state",
                       path=f"{self.name}/rnn_state_{index}")
            for index, value in enumerate(tree.flatten(self._zero_states(step_shape)))]

    def _zero_states(self, step_shape: tuple) -> list[Any]:
        if isinstance(self.cell, (RecurrentCell, StackedRNNCells)):
            return self.cell.zero_states(step_shape, self.dtype)
        if callable(getattr(self.cell, "get_initial_state", None)):
            states = self.cell.get_initial_state(batch_size=step_shape[0])
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return zero_states_of(self.cell.state_size, step_shape[0], self.dtype)

    def get_initial_state(self, batch_size: int) -> list[Any]:
        """Zero states (or the cell's own initial states) for a batch of this size."""
        return self._zero_states((batch_size,))

    def reset_state(self) -> None:
        """Zero the states of a stateful layer."""
        for variable in self._states_holder.variables:
            variable.assign(backend.impl.zeros_like(variable.value))

    def reset_states(self, states: Any = None) -> None:
        """Zero the states of a stateful layer, or set them to `states` (Keras 2)."""
        if states is None:
            self.reset_state()
            return
        values = tree.flatten(list(states) if isinstance(states, (list, tuple)) else [states])
        variables = self._states_holder.variables
        if len(values) != len(variables):
            raise ValueError(f"reset_states on {self.name!r} expected {len(variables)} state array(s), "
                             f"got {len(values)}.")
        for variable, value in zip(variables, values):
            variable.assign(backend.impl.convert_to_tensor(value, self.dtype))

    def _initial_states(self, initial_state: Any, step_shape: tuple) -> list[Any]:
        B = backend.impl
        if initial_state is not None:
            given = tree.flatten(list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state])
            expected = len(tree.flatten(state_structure(self.cell.state_size)))
            if len(given) != expected:
                raise ValueError(f"{type(self).__name__} {self.name!r} initial_state must hold {expected} "
                                 f"tensor(s), got {len(given)}.")
            return tree.unflatten_as(state_structure(self.cell.state_size),
                                     [B.cast(B.convert_to_tensor(s), self.dtype) for s in given])
        if not self.stateful or is_tracing_shapes():
            return self._zero_states(step_shape)
        if not self._states_holder.variables:
            self._create_states(step_shape)
        variables = self._states_holder.variables
        if tuple(B.shape(variables[0]))[0] != step_shape[0]:
            raise ValueError(f"Stateful {type(self).__name__} {self.name!r} keeps states for batches of "
                             f"{tuple(B.shape(variables[0]))[0]} samples, got a batch of {step_shape[0]}. "
                             "Feed batches of one size (set batch_size), or build a new layer.")
        return tree.unflatten_as(state_structure(self.cell.state_size), [fresh(v) for v in variables])

    # --- the call ----------------------------------------------------------------------------------

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None, training: bool | None = None) -> Any:
        """sequences (batch, time, ...) -> the last output, or all outputs with return_sequences; then states.

        sequences may be a list or tuple of such tensors for a cell that takes several inputs per step.
        """
        B = backend.impl
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        shape = tuple(B.shape(sequences[0] if isinstance(sequences, (list, tuple)) else sequences))
        step_shape = (shape[0], *shape[2:])
        states = self._initial_states(initial_state, step_shape)
        if mask is not None:
            mask = B.cast(mask, "bool")
        if isinstance(self.cell, RecurrentCell):
            outputs, states = self._run_builtin(sequences, states, mask, bool(training), step_shape)
        else:
            outputs, states = self._run_cell(sequences, states, mask, bool(training), step_shape)
        if self.stateful and not is_tracing_shapes():
            for variable, value in zip(self._states_holder.variables, tree.flatten(states)):
                variable.assign(B.stop_gradient(value))
        output = outputs if self.return_sequences else tree.map_structure(lambda o: o[:, -1], outputs)
        return [output, *states] if self.return_state else output

    def _run_builtin(self, sequences: Any, states: list[Any], mask: Any, training: bool,
                     step_shape: tuple) -> tuple[Any, list[Any]]:
        """A built-in cell: fused where possible, else the input projection once and a loop of `recur`."""
        B, cell = backend.impl, self.cell
        input_mask, recurrent_mask = cell.start_sequence(step_shape, training)
        try:
            if input_mask is not None:
                sequences = B.multiply(sequences, B.expand_dims(input_mask, 1))  # one mask for every step
            if recurrent_mask is None and mask is None and not self.unroll:
                result = cell.fused(sequences, states, self.go_backwards)
                if result is not None:
                    return result
            return B.rnn(lambda x_t, s: cell.recur(x_t, s, recurrent_mask), cell.project(sequences), states,
                         self.go_backwards, mask=mask, unroll=self.unroll,
                         zero_output_for_mask=self.zero_output_for_mask)
        finally:
            cell.end_sequence()

    def _run_cell(self, sequences: Any, states: list[Any], mask: Any, training: bool,
                  step_shape: tuple) -> tuple[Any, list[Any]]:
        """Any cell, one call per step (stacked built-in cells share their dropout masks over the sequence)."""
        B, cell = backend.impl, self.cell
        if isinstance(cell, StackedRNNCells):
            cell.start_sequence(step_shape, training)

        def step(x_t: Any, flat_states: list[Any]) -> tuple[Any, list[Any]]:
            output, new_states = self._cell_step(x_t, tree.unflatten_as(states, flat_states), training)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            return output, tree.flatten(new_states)

        try:
            outputs, flat_states = B.rnn(step, sequences, tree.flatten(states), self.go_backwards, mask=mask,
                                         unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask)
        finally:
            if isinstance(cell, StackedRNNCells):
                cell.end_sequence()
        return outputs, tree.unflatten_as(states, flat_states)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(tree.flatten(state_structure(self.cell.state_size)))
        return output_mask

    # --- configs -----------------------------------------------------------------------------------

    def rnn_config(self) -> dict:
        """The arguments of RNN itself (subclasses add their cell's)."""
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self) -> dict:
        from lamina.saving.registry import serialize_object

        return {**super().get_config(), **self.rnn_config(), "cell": serialize_object(self.cell)}

    @classmethod
    def from_config(cls, config: dict) -> "RNN":
        from lamina.saving.registry import deserialize_object

        config = dict(config)
        return cls(deserialize_object(config.pop("cell")), **config)
