"""The Optimizer base: slots as backend variables, and one vectorised update over all variables."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import numpy as np

from lamina import backend
from lamina.utils import naming


# Keras 3 options that Lamina does not implement, with the values that leave them off.
_UNUSED_KERAS_OPTIONS = {"decay": 0.0, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                         "loss_scale_factor": None, "gradient_accumulation_steps": None}


class Optimizer:
    """Updates trainable variables from their gradients. Subclasses write `build_slots` and `update`."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None, **kwargs: Any) -> None:
        if "lr" in kwargs:  # the Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        for key, default in _UNUSED_KERAS_OPTIONS.items():  # accepted when they ask for nothing
            if key in kwargs and kwargs[key] in (default, None):
                kwargs.pop(key)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected or unsupported keyword argument(s): "
                            f"{', '.join(f'{k}={v!r}' for k, v in sorted(kwargs.items()))}.")
        clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clipping.values()) > 1:
            given = ", ".join(f"{k}={v}" for k, v in clipping.items() if v is not None)
            raise ValueError(f"Give at most one of clipnorm, clipvalue and global_clipnorm, got {given}.")
        self.name = name or naming.to_snake_case(type(self).__name__)
        self.weight_decay, self.clipnorm, self.clipvalue, self.global_clipnorm = \
            weight_decay, clipnorm, clipvalue, global_clipnorm
        self._initial_learning_rate = float(learning_rate)
        self.built = False
        self.variables: list[Any] = []
        self._slot_names: dict[int, str] = {}  # id(list of slots) -> the slots' name
        self._selection: tuple[Any, list[int] | None] = (None, None)  # (variables list, their slot positions)

    # --- state ------------------------------------------------------------------------------------

    def _state_variable(self, value: Any, name: str, dtype: str = "float32") -> Any:
        variable = backend.impl.Variable(np.asarray(value, dtype=dtype), dtype=dtype, trainable=False,
                                         name=name, path=f"{self.name}/{name}")
        self.variables.append(variable)
        return variable

    def build(self, variables: Sequence[Any]) -> None:
        """Create the iteration counter, the learning rate and the slots for these variables."""
        self.iterations = self._state_variable(0, "iteration", "int64")
        self._learning_rate = self._state_variable(self._initial_learning_rate, "learning_rate")
        self._trained_variables = list(variables)
        self.build_slots(self._trained_variables)
        self.built = True

    def build_slots(self, variables: Sequence[Any]) -> None:
        """Create per-variable state (momenta, ...)."""

    def slots_like(self, variables: Sequence[Any], name: str) -> list[Any]:
        """One zero slot per variable, in their order; `apply` picks the slots of the variables it updates."""
        slots = self._new_slots(variables, name, 0)
        self._slot_names[id(slots)] = name
        return slots

    def _new_slots(self, variables: Sequence[Any], name: str, first: int) -> list[Any]:
        return [self._state_variable(np.zeros(tuple(v.shape), dtype="float32"), f"{name}_{first + i}")
                for i, v in enumerate(variables)]

    def prepare(self, variables: Sequence[Any]) -> None:
        """Make sure every variable in `variables` has its slots (layers may be unfrozen after a build)."""
        if not self.built:
            self.build(variables)
            return
        known = {id(v) for v in self._trained_variables}
        missing = [v for v in variables if id(v) not in known]
        if not missing:
            return
        for slots in self._slot_lists():
            slots.extend(self._new_slots(missing, self._slot_names[id(slots)], len(slots)))
        self._trained_variables.extend(missing)
        self._selection = (None, None)

    def _slot_lists(self) -> list[list]:
        return [value for value in vars(self).values() if isinstance(value, list) and id(value) in self._slot_names]

    @contextlib.contextmanager
    def _slots_for(self, variables: list[Any]) -> Iterator[None]:
        """Within the block every slot list holds the slots of `variables` only, in their order: after
        layers were frozen, the optimizer updates a subset of the variables it was built for."""
        selected, positions = self._selection
        if selected is not variables:
            index = {id(v): i for i, v in enumerate(self._trained_variables)}
            unknown = [v.path for v in variables if id(v) not in index]
            if unknown:
                raise ValueError(f"Optimizer {self.name!r} was built for other variables and has no state for "
                                 f"{unknown}. Call compile() again after changing which layers are trainable.")
            positions = [index[id(v)] for v in variables]
            positions = None if positions == list(range(len(self._trained_variables))) else positions
            self._selection = (variables, positions)
        if positions is None:
            yield
            return
        saved = {name: value for name, value in vars(self).items()
                 if isinstance(value, list) and id(value) in self._slot_names}
        for name, slots in saved.items():
            setattr(self, name, [slots[i] for i in positions])
        try:
            yield
        finally:
            for name, slots in saved.items():
                setattr(self, name, slots)

    @property
    def learning_rate(self) -> float:
        if not self.built:
            return self._initial_learning_rate
        return float(backend.impl.convert_to_numpy(self._learning_rate))

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._initial_learning_rate = float(value)
        if self.built:
            self._learning_rate.assign(backend.impl.convert_to_tensor(np.float32(value)))

    lr = learning_rate

    # --- updates ------------------------------------------------------------------------------------

    def apply(self, grads: Sequence[Any], variables: Sequence[Any] | None = None) -> None:
        """One step: clip, decay, update every variable in place at once, constrain, count."""
        B = backend.impl
        if variables is None:
            variables = self._trained_variables
        elif not isinstance(variables, list):
            variables = list(variables)
        if not self.built:
            self.build(variables)
        if not variables:  # everything is frozen: nothing to update, but the step still counts
            self.iterations.assign_add(1)
            return
        with B.no_grad():
            grads = self._clip(list(grads))
            learning_rate = self._learning_rate.value
            if self.weight_decay:  # decoupled decay, before the update: variable -= variable * weight_decay * lr
                B.assign_mul(variables, 1.0 - learning_rate * self.weight_decay)
            with self._slots_for(variables):
                self.update(grads, variables, learning_rate)
            for variable in variables:
                constraint = getattr(variable, "_lamina_constraint", None)  # set by Layer.add_weight
                if constraint is not None:
                    variable.assign(constraint(variable.value))
            self.iterations.assign_add(1)

    def scale_loss(self, loss: Any) -> Any:
        """The loss to differentiate: the loss itself, except for a loss-scaling optimizer."""
        return loss

    def apply_gradients(self, grads_and_vars: Sequence[tuple[Any, Any]]) -> None:
        """Keras's spelling of `apply`: a list of (gradient, variable) pairs."""
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)

    def _clip(self, grads: list[Any]) -> list[Any]:
        B = backend.impl
        if self.clipnorm:
            return B.foreach_clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm:
            norm = B.global_norm(grads)
            return B.foreach_mul(grads, B.minimum(1.0, self.global_clipnorm / B.maximum(norm, 1e-12)))
        if self.clipvalue:
            return [B.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        """Update `variables` and the slots in place, with the backend's multi-tensor assign ops."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "learning_rate": self.learning_rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        return cls(**config)
