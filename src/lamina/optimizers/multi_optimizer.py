"""MultiOptimizer: different optimizers for different variables, chosen by variable path or by a function."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class OptimizerMap(MutableMapping):
    """Variable paths (exact, else regular expressions matched in full) to optimizers, with a default."""

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"OptimizerMap: default_optimizer must be an Optimizer, got "
                            f"{type(default_optimizer).__name__}: {default_optimizer!r:.100}.")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: optimizer_map must be a dict of path patterns to optimizers, got "
                            f"{type(optimizer_map).__name__}: {optimizer_map!r:.100}.")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        """The optimizer of a path: an exact key, else the one pattern that fully matches, else the default."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"OptimizerMap: the variable {key!r} matches several patterns: {matches}. Make the "
                             "patterns exclusive so that each variable has one optimizer.")
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: keys must be strings (variable paths or patterns), got {key!r}.")
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: {key!r} already has the optimizer {self._optimizer_map[key].name!r}; "
                             "each key can be set once.")
        _check_inner(optimizer, f"the optimizer for {key!r}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._optimizer_map)

    def __call__(self, variable: Any) -> Optimizer:
        return self[variable.path]

    def get_config(self) -> dict:
        from lamina.optimizers import serialize

        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {key: serialize(optimizer) for key, optimizer in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: dict) -> "OptimizerMap":
        from lamina.optimizers import get

        return cls(get(config["default_optimizer"]),
                   {key: get(value) for key, value in (config.get("optimizer_map") or {}).items()})


def _check_inner(optimizer: Any, what: str) -> None:
    from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer

    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"MultiOptimizer: {what} must be an Optimizer, got {type(optimizer).__name__}: "
                         f"{optimizer!r:.100}.")
    if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
        raise ValueError(f"MultiOptimizer: {what} cannot be a {type(optimizer).__name__}.")


class MultiOptimizer(Optimizer):
    """Updates each variable with the optimizer `optimizer_map` gives it: an OptimizerMap, or a function
    from a variable to an optimizer. Each optimizer keeps its own learning rate, step count and slots."""

    def __init__(self, optimizer_map: OptimizerMap | Callable[[Any], Optimizer], loss_scale_factor: Any = None,
                 name: str | None = None) -> None:
        super().__init__(learning_rate=0.0, name=name, loss_scale_factor=loss_scale_factor)
        if not callable(optimizer_map):
            raise TypeError(f"MultiOptimizer: optimizer_map must be an OptimizerMap or a function from a variable "
                            f"to an optimizer, got {type(optimizer_map).__name__}: {optimizer_map!r:.100}.")
        self.optimizer_map = optimizer_map
        self._inner: list[Optimizer] = []
        if isinstance(optimizer_map, OptimizerMap):
            for optimizer in [*optimizer_map.values(), optimizer_map.default_optimizer]:
                self._add(optimizer)
        self._routes: dict[int, int] = {}  # id(variable) -> index of its optimizer

    def _add(self, optimizer: Optimizer) -> int:
        for index, known in enumerate(self._inner):
            if known is optimizer:
                return index
        optimizer.loss_scale_factor = self.loss_scale_factor  # Keras's: the inner optimizers unscale by this factor
        self._inner.append(optimizer)
        return len(self._inner) - 1

    @property
    def optimizers(self) -> list[Optimizer]:
        return list(self._inner)

    # --- state: its own step counter and (unused) learning rate, then every optimizer's ---------------

    @property
    def variables(self) -> list[Any]:
        return self._own_variables + [v for optimizer in self._inner for v in optimizer.variables]

    @variables.setter
    def variables(self, value: list[Any]) -> None:  # the base class starts with an empty list
        self._own_variables = list(value)

    def _state_variable(self, value: Any, name: str, dtype: str = "float32") -> Any:
        variable = backend.impl.Variable(np.asarray(value, dtype=dtype), dtype=dtype, trainable=False,
                                         name=name, path=f"{self.name}/{name}")
        self._own_variables.append(variable)
        return variable

    @property
    def learning_rate(self) -> float:
        raise AttributeError("A MultiOptimizer has no single learning rate: read or set it on one of its "
                             "optimizers (MultiOptimizer.optimizers).")

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        raise AttributeError("A MultiOptimizer has no single learning rate: set it on one of its optimizers "
                             "(MultiOptimizer.optimizers).")

    lr = learning_rate

    def build(self, variables: Sequence[Any]) -> None:
        if self.built:
            return
        self._ensure_state()  # its own step counter and learning rate, as Keras has them
        self._trained_variables = []
        self._route(list(variables))
        self.built = True

    def prepare(self, variables: Sequence[Any]) -> None:
        if not self.built:
            self.build(variables)
        else:
            self._route([v for v in variables if id(v) not in self._routes])

    def _route(self, variables: list[Any]) -> None:
        """Give each new variable its optimizer, and make those optimizers hold state for their variables."""
        if not variables:
            return
        for variable in variables:
            optimizer = self.optimizer_map(variable)
            _check_inner(optimizer, f"the optimizer for {getattr(variable, 'path', variable)!r}")
            self._routes[id(variable)] = self._add(optimizer)
        self._trained_variables.extend(variables)
        for index, optimizer in enumerate(self._inner):
            mine = [v for v in self._trained_variables if self._routes[id(v)] == index]
            if mine:
                optimizer.prepare(mine)

    def apply(self, grads: Sequence[Any], variables: Sequence[Any] | None = None) -> None:
        """Each optimizer updates its own variables from their gradients; the common step counter counts."""
        if variables is None:
            if not self.built:
                raise ValueError("MultiOptimizer.apply: pass the variables with the gradients, or build the "
                                 "optimizer on them first.")
            variables = self._trained_variables
        variables = list(variables)
        grads = self._reduced(list(grads))
        if len(grads) != len(variables):
            raise ValueError(f"MultiOptimizer.apply: got {len(grads)} gradients for {len(variables)} variables.")
        if not self.built:
            self.build(variables)
        unknown = [getattr(v, "path", v) for v in variables if id(v) not in self._routes]
        if unknown:
            raise ValueError(f"MultiOptimizer {self.name!r} was built for other variables and has no optimizer for "
                             f"{unknown}. Call compile() again after changing which layers are trainable.")
        groups: list[tuple[list, list]] = [([], []) for _ in self._inner]
        for grad, variable in zip(grads, variables):
            group = groups[self._routes[id(variable)]]
            group[0].append(grad)
            group[1].append(variable)
        for optimizer, (group_grads, group_variables) in zip(self._inner, groups):
            if group_variables:
                optimizer.apply(group_grads, group_variables)
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        for index, optimizer in enumerate(self._inner):
            mine = [v for v in var_list if self._routes.get(id(v)) == index]
            if mine:
                optimizer.finalize_variable_values(mine)

    def get_config(self) -> dict:
        from lamina.saving import registry

        return {"optimizer_map": registry.serialize_object(self.optimizer_map), "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "MultiOptimizer":
        from lamina.saving import registry

        config = dict(config)
        given = config["optimizer_map"]
        if isinstance(given, dict) and given.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(given.get("config", {}))
        elif isinstance(given, dict):
            config["optimizer_map"] = registry.deserialize_function(given, custom_objects)
        return cls(**config)


__all__ = ["MultiOptimizer", "OptimizerMap"]
