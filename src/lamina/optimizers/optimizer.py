"""The Optimizer base: slots as backend variables, and one vectorised update over all variables.

Every decision that depends on the step (a schedule's rate, gradient accumulation, the EMA's first step and its
overwrites) is computed on the device from the `iteration` variable, so `apply` runs inside a jitted (jax) or
captured (torch) step without reading anything back to the host.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import warnings
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from lamina import backend
from lamina.utils import naming


def _is_schedule(value: Any) -> bool:
    """A learning-rate schedule or any callable giving the rate (Keras accepts both); not a number or tensor."""
    return callable(value) and not isinstance(value, (int, float, np.number)) and not hasattr(value, "shape")


class Optimizer:
    """Updates trainable variables from their gradients. Subclasses write `build_slots` and `update`."""

    # A subclass whose backend update applies Keras's decoupled weight decay itself (AdamW's fused kernel)
    # sets this and reads `self._weight_decay_in_update` in `update`.
    fuses_weight_decay = False

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if "lr" in kwargs:  # the Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)  # Keras 2: the rate is lr / (1 + decay * iterations)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): "
                            f"{', '.join(f'{k}={v!r}' for k, v in sorted(kwargs.items()))}.")
        _check_options(clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
                       gradient_accumulation_steps, decay)
        self.name = name or naming.to_snake_case(type(self).__name__)
        self.weight_decay, self.clipnorm, self.clipvalue, self.global_clipnorm = \
            weight_decay, clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.decay = float(decay or 0.0)
        self._initial_learning_rate = _checked_learning_rate(learning_rate)
        self.built = False
        self.variables: list[Any] = []
        self._iterations: Any = None
        self._learning_rate: Any = None  # the variable holding a float rate (None with a schedule)
        self._weight_decay_in_update = 0.0
        self._slot_names: dict[int, str] = {}  # id(list of slots) -> the slots' name
        self._slot_initial: dict[int, float] = {}  # id(list of slots) -> the value its slots start from
        self._selection: tuple[Any, list[int] | None] = (None, None)  # (variables list, their slot positions)
        self._excluded_ids: set[int] = set()
        self._excluded_pattern: re.Pattern | None = None
        self._decays: dict[int, bool] = {}

    # --- state ------------------------------------------------------------------------------------

    def _state_variable(self, value: Any, name: str, dtype: str = "float32") -> Any:
        variable = backend.impl.Variable(np.asarray(value, dtype=dtype), dtype=dtype, trainable=False,
                                         name=name, path=f"{self.name}/{name}")
        self.variables.append(variable)
        return variable

    def _ensure_state(self) -> None:
        """The step counter and the learning-rate variable, made on first need (Keras makes them at
        construction; here the backend is known only once they are used), again under another backend."""
        B = backend.impl
        if self._iterations is not None and isinstance(self._iterations, B.Variable):
            return
        done = 0 if self._iterations is None else int(np.asarray(self._iterations))
        rate = self._initial_learning_rate
        if self._learning_rate is not None:
            rate = float(np.asarray(self._learning_rate))
        self.variables = []
        self._iterations = self._state_variable(done, "iteration", "int64")
        if not _is_schedule(self._initial_learning_rate):
            self._learning_rate = self._state_variable(rate, "learning_rate")

    def build(self, variables: Sequence[Any]) -> None:
        """Create the iteration counter, the learning rate, and the slots for these variables."""
        if self.built:
            return
        self._ensure_state()
        self._trained_variables = list(variables)
        if self.use_ema:
            self._averages = self.slots_like(self._trained_variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulators = self.slots_like(self._trained_variables, "gradient_accumulator")
        self.build_slots(self._trained_variables)
        self._decays = {}
        self.built = True

    def build_slots(self, variables: Sequence[Any]) -> None:
        """Create per-variable state (momenta, ...)."""

    def slots_like(self, variables: Sequence[Any], name: str | Sequence[str],
                   initial_value: float | Sequence[float] = 0.0) -> Any:
        """One slot per variable filled with `initial_value`, in their order (`apply` picks the slots of the
        variables it updates). Several names give a tuple of lists, made variable by variable as Keras orders
        them (the first variable's slots of every name, then the second's, ...); `initial_value` may then give
        one value per name."""
        names = [name] if isinstance(name, str) else list(name)
        initials = [initial_value] * len(names) if isinstance(initial_value, (int, float)) else list(initial_value)
        lists: list[list[Any]] = [[] for _ in names]
        for variable in variables:
            for slots, slot_name, initial in zip(lists, names, initials):
                slots.append(self._slot(variable, slot_name, initial))
        for slots, slot_name, initial in zip(lists, names, initials):
            self._slot_names[id(slots)] = slot_name
            self._slot_initial[id(slots)] = initial
        return lists[0] if isinstance(name, str) else tuple(lists)

    def _slot(self, variable: Any, name: str, initial_value: float) -> Any:
        label = f"{variable.path.replace('/', '_')}_{name}"
        return self._state_variable(np.full(tuple(variable.shape), initial_value, dtype="float32"), label)

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
            name, initial = self._slot_names[id(slots)], self._slot_initial.get(id(slots), 0.0)
            slots.extend(self._slot(v, name, initial) for v in missing)
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

    # --- the step counter and the learning rate ----------------------------------------------------

    @property
    def iterations(self) -> Any:
        """The number of optimizer steps taken (with gradient accumulation: of updates, not of calls)."""
        self._ensure_state()
        if self.gradient_accumulation_steps:
            return backend.impl.floor_divide(self._iterations.value, self.gradient_accumulation_steps)
        return self._iterations

    @property
    def learning_rate(self) -> Any:
        """The rate variable (assignable, `float()` reads it); with a schedule, its value at this step."""
        if _is_schedule(self._initial_learning_rate):
            self._ensure_state()
            return self._scheduled_rate()
        self._ensure_state()
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if _is_schedule(value):
            self._initial_learning_rate = value
            return
        if _is_schedule(self._initial_learning_rate):
            raise TypeError(f"{type(self).__name__} was created with a learning-rate schedule as its "
                            "`learning_rate`, so its rate cannot be set to a number. Create the optimizer with a "
                            f"float `learning_rate` to set it during training; got {value!r}.")
        value = float(np.asarray(backend.impl.convert_to_numpy(value) if hasattr(value, "shape") else value))
        if self._learning_rate is None:
            self._initial_learning_rate = _checked_learning_rate(value)
        else:
            self._learning_rate.assign(backend.impl.convert_to_tensor(np.float32(value)))

    lr = learning_rate

    def _scheduled_rate(self) -> Any:
        schedule = self._initial_learning_rate
        if _takes_no_step(schedule):
            return schedule()
        return schedule(self._iterations.value)

    def _current_learning_rate(self) -> Any:
        """The rate this step uses, as a float32 tensor on the device: the variable's value, or the schedule at
        the step count, divided by (1 + decay * iterations) with Keras 2's `decay`."""
        B = backend.impl
        if _is_schedule(self._initial_learning_rate):
            rate = B.cast(B.convert_to_tensor(self._scheduled_rate()), "float32")
        else:
            rate = self._learning_rate.value
        if self.decay:
            rate = rate / (1.0 + self.decay * B.cast(self._iterations.value, "float32"))
        return rate

    # --- updates ------------------------------------------------------------------------------------

    def apply(self, grads: Sequence[Any], variables: Sequence[Any] | None = None) -> None:
        """One step: unscale, accumulate, clip, decay, update every variable in place at once, average,
        constrain, count."""
        B = backend.impl
        grads = list(grads)
        if variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply(grads) without variables needs a built optimizer: "
                                 "call optimizer.build(trainable_variables) first, or pass the variables.")
            variables = self._trained_variables
        elif not isinstance(variables, list):
            variables = list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for {len(variables)} "
                             "variables; give one gradient per variable.")
        if not self.built:
            self.build(variables)
        grads, variables = _with_gradients(grads, variables)
        grads = self._reduced(grads)
        if any(getattr(g, "dtype", None) != v.dtype for g, v in zip(grads, variables)):  # as Keras: in its dtype
            grads = [g if getattr(g, "dtype", None) == v.dtype else B.cast(g, B.dtype_of(v))
                     for g, v in zip(grads, variables)]
        if not variables:  # everything is frozen: nothing to update, but the step still counts
            self._iterations.assign_add(1)
            return
        with B.no_grad():
            if self.loss_scale_factor:
                grads = B.foreach_mul(grads, 1.0 / self.loss_scale_factor)
            with self._slots_for(variables):
                if self.gradient_accumulation_steps:
                    self._accumulate_or_update(grads, variables)
                else:
                    self._update_step(grads, variables)
                if self.use_ema:
                    self._update_averages(variables)
            for variable in variables:
                constraint = getattr(variable, "_lamina_constraint", None)  # set by Layer.add_weight
                if constraint is not None:
                    variable.assign(constraint(variable.value))
            self._iterations.assign_add(1)

    def _update_step(self, grads: list[Any], variables: list[Any]) -> None:
        """Clip, decay and update with these gradients."""
        grads = self._clip(grads)
        learning_rate = self._current_learning_rate()
        self._weight_decay_in_update = self._apply_weight_decay(variables, learning_rate)
        self.update(grads, variables, learning_rate)

    def _accumulate_or_update(self, grads: list[Any], variables: list[Any]) -> None:
        """Every Nth call updates with the mean of the N gradients; the others only add to the accumulators.
        Both are computed and one is selected on the device: no Python branch on the step."""
        B = backend.impl
        steps = self.gradient_accumulation_steps
        is_update = B.equal(B.mod(self._iterations.value + 1, steps), 0)
        sums = B.foreach_add(self._accumulators, grads)
        skipped = {id(v) for v in (self._iterations, self._learning_rate, *self._accumulators,
                                   *getattr(self, "_averages", []))}
        kept = list(variables) + [v for v in self.variables if id(v) not in skipped]
        before = B.foreach_mul(kept, 1.0)  # copies: the update works in place
        self._update_step(B.foreach_mul(sums, 1.0 / steps), variables)
        B.foreach_assign(kept, B.foreach_where(is_update, kept, before))
        B.foreach_assign(self._accumulators, B.foreach_where(B.logical_not(is_update), sums, 0.0))

    def _update_averages(self, variables: list[Any]) -> None:
        """average = m * average + (1 - m) * variable, with m = 0 on the first step; every
        `ema_overwrite_frequency` steps the variables take their averages."""
        B = backend.impl
        steps = self._iterations.value
        if self.gradient_accumulation_steps:
            steps = B.floor_divide(steps, self.gradient_accumulation_steps)
        momentum = B.cast(B.not_equal(steps, 0), "float32") * self.ema_momentum
        B.assign_mul(self._averages, momentum)
        B.assign_add(self._averages, variables, alpha=1.0 - momentum)
        if self.ema_overwrite_frequency:
            overwrite = B.equal(B.mod(steps + 1, self.ema_overwrite_frequency), 0)
            B.foreach_assign(variables, B.foreach_where(overwrite, self._averages, variables))

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        """At the end of training: with `use_ema`, the variables take their moving averages (as Keras's fit)."""
        if self.use_ema and self.built:
            self._overwrite_with_averages(list(var_list))

    def _overwrite_with_averages(self, var_list: list[Any]) -> None:
        with self._slots_for(var_list):  # copies: two variables sharing one buffer cannot both be donated (jax)
            backend.impl.foreach_assign(var_list, backend.impl.foreach_mul(self._averages, 1.0))

    def scale_loss(self, loss: Any) -> Any:
        """The loss to differentiate: multiplied by `loss_scale_factor` when it is set."""
        if self.loss_scale_factor is not None:
            return backend.impl.multiply(loss, self.loss_scale_factor)
        return loss

    @contextlib.contextmanager
    def reducing_gradients(self, reduce: Callable[[list], list]) -> Iterator[None]:
        """Within the block, `apply` first passes the gradients it is given through `reduce`: a model's own
        train step, run by several processes, then averages them over the processes as Lamina's step does."""
        self._gradient_reducer = reduce
        try:
            yield
        finally:
            self._gradient_reducer = None

    def _reduced(self, grads: list[Any]) -> list[Any]:
        """The gradients through the reducer `reducing_gradients` set, if any (missing ones stay None)."""
        reduce = getattr(self, "_gradient_reducer", None)
        if reduce is None:  # Lamina's own step reduces before apply: nothing to do on its per-step path
            return grads
        present = [index for index, grad in enumerate(grads) if grad is not None]
        if not present:
            return grads
        reduced = list(grads)
        for index, grad in zip(present, reduce([grads[index] for index in present])):
            reduced[index] = grad
        return reduced

    def apply_gradients(self, grads_and_vars: Sequence[tuple[Any, Any]]) -> Any:
        """Keras's spelling of `apply`: a list of (gradient, variable) pairs; returns the step counter."""
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)
        return self.iterations

    def stateless_apply(self, optimizer_variables: Sequence[Any], grads: Sequence[Any],
                        trainable_variables: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """`apply` on given values instead of the variables' own: returns (new trainable values, new optimizer
        variable values). Inside a jitted function the values may be traced; on torch they are the variables
        (their values are copied in first when other tensors are given) and are updated in place."""
        if not self.built:
            raise ValueError(f"To call stateless_apply, {type(self).__name__} must be built: call "
                             "optimizer.build(trainable_variables) first.")
        if len(optimizer_variables) != len(self.variables):
            raise ValueError(f"stateless_apply: optimizer_variables must match optimizer.variables one to one: got "
                             f"{len(optimizer_variables)} values for {len(self.variables)} variables.")
        if len(trainable_variables) != len(self._trained_variables):
            raise ValueError(f"stateless_apply: trainable_variables must match the {len(self._trained_variables)} "
                             f"variables the optimizer was built with, got {len(trainable_variables)} values.")
        targets = list(self._trained_variables) + list(self.variables)
        values = list(trainable_variables) + list(optimizer_variables)
        with backend.impl.StateScope(targets, values) as scope:
            for variable, value, held in zip(targets, values, scope.current(targets)):
                if held is not value and value is not variable:  # a backend that updates in place
                    variable.assign(value)
            self.apply(grads, self._trained_variables)
            return scope.current(self._trained_variables), scope.current(self.variables)

    def _clip(self, grads: list[Any]) -> list[Any]:
        B = backend.impl
        if self.clipnorm and self.clipnorm > 0:
            return B.foreach_clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm and self.global_clipnorm > 0:
            norm = B.global_norm(grads)
            return B.foreach_mul(grads, B.minimum(1.0, self.global_clipnorm / B.maximum(norm, 1e-12)))
        if self.clipvalue and self.clipvalue > 0:
            return B.foreach_clip(grads, -self.clipvalue, self.clipvalue)
        return grads

    # --- weight decay ---------------------------------------------------------------------------------

    def exclude_from_weight_decay(self, var_list: Sequence[Any] | None = None,
                                  var_names: Sequence[str] | None = None) -> None:
        """Leave these variables, and those whose name contains one of `var_names`, out of the weight decay."""
        if self.built:
            raise ValueError("exclude_from_weight_decay() can only be configured before the optimizer is built.")
        self._excluded_ids = {id(v) for v in var_list or ()}
        self._excluded_pattern = re.compile("|".join(sorted(set(var_names)))) if var_names else None
        self._decays = {}

    def _use_weight_decay(self, variable: Any) -> bool:
        key = id(variable)
        if key not in self._decays:
            excluded = key in self._excluded_ids or (
                self._excluded_pattern is not None and self._excluded_pattern.search(variable.name) is not None)
            self._decays[key] = not excluded
        return self._decays[key]

    def _apply_weight_decay(self, variables: list[Any], learning_rate: Any) -> float:
        """Keras's decoupled decay, variable -= variable * weight_decay * lr, before the update. Returns the decay
        the update itself must apply (when the subclass fuses it and every variable decays), else 0."""
        if not self.weight_decay:
            return 0.0
        decayed = [v for v in variables if self._use_weight_decay(v)]
        if self.fuses_weight_decay and len(decayed) == len(variables):
            return float(self.weight_decay)
        if decayed:
            backend.impl.assign_mul(decayed, 1.0 - learning_rate * self.weight_decay)
        return 0.0

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        """Update `variables` and the slots in place, with the backend's multi-tensor assign ops. An optimizer
        written the Keras way, with `update_step(gradient, variable, learning_rate)`, is run variable by variable."""
        if getattr(type(self).update_step, "__func__", type(self).update_step) is Optimizer.update_step:
            raise NotImplementedError(f"{type(self).__name__} must define update(grads, variables, learning_rate) "
                                      "or Keras's update_step(gradient, variable, learning_rate).")
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    # --- Keras's API for optimizers written variable by variable -------------------------------------

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Keras's per-variable update, for subclasses that write it instead of `update`."""
        raise NotImplementedError

    def add_variable(self, shape: Sequence[int], initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "none", layout: Any = None, name: str | None = None) -> Any:
        """A new optimizer variable (part of `optimizer.variables`), filled by `initializer`."""
        from lamina import initializers

        self._ensure_state()
        dtype = dtype or "float32"
        value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        return self._state_variable(np.asarray(backend.impl.convert_to_numpy(value)), name or "variable", dtype)

    def add_variable_from_reference(self, reference_variable: Any, name: str | None = None,
                                    initializer: Any = "zeros") -> Any:
        """A new optimizer variable of `reference_variable`'s shape and dtype, named after it."""
        label = f"{reference_variable.path.replace('/', '_')}_{name or 'var'}"
        return self.add_variable(tuple(reference_variable.shape), initializer,
                                 backend.impl.dtype_of(reference_variable), name=label)

    def _get_variable_index(self, variable: Any) -> int:
        """The position of `variable` among those the optimizer was built for (to find its Keras-style slots)."""
        if getattr(self, "_index_of", (None,))[0] is not self._trained_variables or \
                len(self._index_of[1]) != len(self._trained_variables):
            self._index_of = (self._trained_variables, {id(v): i for i, v in enumerate(self._trained_variables)})
        return self._index_of[1][id(variable)]

    def assign(self, variable: Any, value: Any) -> None:
        variable.assign(value)

    def assign_add(self, variable: Any, value: Any) -> None:
        variable.assign_add(value)

    def assign_sub(self, variable: Any, value: Any) -> None:
        variable.assign_sub(value)

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Give every optimizer variable, in `variables`' order, its value."""
        if not self.built:
            raise ValueError("You are calling set_weights() on an optimizer that has not been built yet: call "
                             "optimizer.build(trainable_variables) first.")
        for variable, weight in zip(self.variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(f"Optimizer variable {variable.path} has shape {tuple(variable.shape)}, not "
                                 f"compatible with the given weight's shape {tuple(np.shape(weight))}.")
            variable.assign(backend.impl.convert_to_tensor(np.asarray(weight), backend.impl.dtype_of(variable)))

    def save_own_variables(self, store: dict) -> None:
        """Write every optimizer variable into `store` under its position ("0", "1", ...)."""
        for index, variable in enumerate(self.variables):
            store[str(index)] = np.asarray(backend.impl.convert_to_numpy(variable))

    def load_own_variables(self, store: Any) -> None:
        """Read the optimizer variables back from `store`; a store of another size is skipped with a warning."""
        if len(store.keys()) != len(self.variables):
            warnings.warn(f"Skipping variable loading for optimizer '{self.name}', because it has "
                          f"{len(self.variables)} variables whereas the saved optimizer has {len(store.keys())} "
                          "variables.", stacklevel=2)
            return
        self.set_weights([store[str(index)] for index in range(len(self.variables))])

    # --- configuration --------------------------------------------------------------------------------

    def get_config(self) -> dict:
        config = {"name": self.name, "learning_rate": self._learning_rate_config(),
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                  "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                  "ema_momentum": self.ema_momentum, "ema_overwrite_frequency": self.ema_overwrite_frequency,
                  "loss_scale_factor": self.loss_scale_factor,
                  "gradient_accumulation_steps": self.gradient_accumulation_steps}
        if self.decay:
            config["decay"] = self.decay
        return config

    def _learning_rate_config(self) -> Any:
        rate = self._initial_learning_rate
        if _is_schedule(rate):
            from lamina.optimizers import schedules

            return schedules.serialize(rate) if isinstance(rate, schedules.LearningRateSchedule) else rate
        if self._learning_rate is not None:
            return float(np.asarray(backend.impl.convert_to_numpy(self._learning_rate)))
        return rate

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from lamina.optimizers import schedules

            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)


def _checked_learning_rate(value: Any) -> Any:
    if _is_schedule(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) and not hasattr(value, "shape"):
        raise ValueError("Argument `learning_rate` should be a float, a LearningRateSchedule or a callable "
                         f"(the step -> the rate). Received instead: learning_rate={value!r}")
    return float(np.asarray(value))


def _takes_no_step(schedule: Callable) -> bool:
    """Keras calls a plain callable with no argument; a schedule (or a callable taking one) gets the step."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)


def _with_gradients(grads: list[Any], variables: list[Any]) -> tuple[list[Any], list[Any]]:
    """Leave out the variables without a gradient (None), with a warning, as Keras does."""
    if all(g is not None for g in grads):
        return grads, variables
    missing = [v.path for g, v in zip(grads, variables) if g is None]
    if len(missing) == len(variables):
        raise ValueError("No gradients provided for any variable.")
    warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                  "`model.compile()`, did you forget to provide a `loss` argument?", stacklevel=3)
    kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
    return [g for g, _ in kept], [v for _, v in kept]


def _check_options(clipnorm: Any, clipvalue: Any, global_clipnorm: Any, use_ema: bool, ema_momentum: float,
                   ema_overwrite_frequency: Any, gradient_accumulation_steps: Any, decay: Any) -> None:
    clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
    if sum(value is not None for value in clipping.values()) > 1:
        given = ", ".join(f"{k}={v}" for k, v in clipping.items() if v is not None)
        raise ValueError(f"Give at most one of clipnorm, clipvalue and global_clipnorm, got {given}.")
    if gradient_accumulation_steps and (not isinstance(gradient_accumulation_steps, int)
                                        or gradient_accumulation_steps < 2):
        raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                         f"gradient_accumulation_steps={gradient_accumulation_steps!r}")
    if use_ema:
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum!r}")
        if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                             f"ema_overwrite_frequency={ema_overwrite_frequency!r}")
    if decay is not None and (isinstance(decay, bool) or not isinstance(decay, (int, float)) or decay < 0):
        raise ValueError(f"`decay` must be a number >= 0. Received: decay={decay!r}")
