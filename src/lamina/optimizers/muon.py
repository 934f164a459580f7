"""Muon: momentum steps orthogonalized by Newton-Schulz iterations for 2-D weights, AdamW for the rest."""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple, Sequence

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class _Shaped(NamedTuple):
    """Stands for a variable where only the shape of its slot differs."""
    shape: tuple
    path: str


class Muon(Optimizer):
    """Muon (Jordan et al., 2024; Liu et al., 2025) with Keras's choice of variables: 2-D variables take
    orthogonalized momentum steps, except embeddings (`exclude_embeddings`) and variables whose path
    matches a pattern of `exclude_layers`; those and every other variable take AdamW steps."""

    def __init__(self, learning_rate: float = 0.001, adam_beta_1: float = 0.9, adam_beta_2: float = 0.999,
                 adam_weight_decay: float | None = 0.004, epsilon: float = 1e-7, weight_decay: float | None = 0.004,
                 exclude_layers: Sequence[str] | None = None, exclude_embeddings: bool = True,
                 muon_a: float = 3.4445, muon_b: float = -4.7750, muon_c: float = 2.0315, adam_lr_ratio: float = 1,
                 momentum: float = 0.95, ns_steps: int = 5, nesterov: bool = True, rms_rate: float | None = 0.2,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1, self.adam_beta_2, self.adam_weight_decay = adam_beta_1, adam_beta_2, adam_weight_decay
        self.epsilon, self.adam_lr_ratio = epsilon, adam_lr_ratio
        self.exclude_layers, self.exclude_embeddings = list(exclude_layers or []), exclude_embeddings
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.momentum, self.ns_steps, self.nesterov, self.rms_rate = momentum, int(ns_steps), nesterov, rms_rate

    def uses_adamw(self, variable: Any) -> bool:
        """Whether this variable takes AdamW steps rather than Muon steps."""
        path = getattr(variable, "path", "") or ""
        return (len(variable.shape) != 2 or (self.exclude_embeddings and "embedding" in path.lower())
                or any(re.search(pattern, path) for pattern in self.exclude_layers))

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum")
        self.velocities = self.slots_like(variables, "velocity")  # AdamW's; a scalar placeholder for Muon's

    def _slot(self, variable: Any, name: str, initial_value: float) -> Any:
        if name == "velocity" and not self.uses_adamw(variable):
            variable = _Shaped((), variable.path)
        return super()._slot(variable, name, initial_value)

    def _apply_weight_decay(self, variables: list[Any], learning_rate: Any) -> float:
        """Decoupled decay before the step, w -= w * decay * lr: adam_weight_decay for the AdamW variables,
        weight_decay for the Muon ones."""
        for adamw, decay in ((True, self.adam_weight_decay), (False, self.weight_decay)):
            chosen = [v for v in variables if self.uses_adamw(v) == adamw and self._use_weight_decay(v)]
            if decay and chosen:
                backend.impl.assign_mul(chosen, 1.0 - learning_rate * decay)
        return 0.0

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        groups: dict[bool, list[int]] = {True: [], False: []}
        for i, variable in enumerate(variables):
            groups[self.uses_adamw(variable)].append(i)
        for adamw, indices in groups.items():
            if not indices:
                continue
            pick = lambda items: [items[i] for i in indices]  # noqa: E731
            if adamw:
                backend.impl.adam_update(pick(variables), pick(grads), pick(self.momentums), pick(self.velocities),
                                         None, learning_rate * self.adam_lr_ratio, self.iterations, self.adam_beta_1,
                                         self.adam_beta_2, self.epsilon)
            else:
                self._muon_update(pick(grads), pick(variables), pick(self.momentums), learning_rate)

    def _muon_update(self, grads: list[Any], variables: list[Any], momentums: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        B.assign_mul(momentums, self.momentum)  # m = momentum * m + g
        B.assign_add(momentums, grads)
        directions = B.foreach_add(grads, momentums, alpha=self.momentum) if self.nesterov else momentums
        # Matrices of one shape are orthogonalized together, as one batch of matrix products.
        by_shape: dict[tuple, list[int]] = {}
        for i, variable in enumerate(variables):
            by_shape.setdefault(tuple(variable.shape), []).append(i)
        steps: list[Any] = [None] * len(variables)
        for (rows, columns), indices in by_shape.items():
            scale = math.sqrt(max(rows, columns)) * self.rms_rate if self.rms_rate is not None else 1.0
            batch = self.orthogonalize(B.stack([directions[i] for i in indices])) * scale
            for i, step in zip(indices, B.unstack(batch) if len(indices) > 1 else [batch[0]]):
                steps[i] = step
        B.assign_add(variables, steps, alpha=-learning_rate)

    def orthogonalize(self, matrices: Any) -> Any:
        """An approximation of U V^T for the SVD U S V^T of each matrix (the last two axes): quintic
        Newton-Schulz iterations."""
        B = backend.impl
        tall = matrices.shape[-2] > matrices.shape[-1]
        x = _transpose(matrices) if tall else matrices
        x = x / (B.sqrt(B.sum(B.square(x), axis=(-2, -1), keepdims=True)) + 1e-7)
        for _ in range(self.ns_steps):
            gram = B.matmul(x, _transpose(x))
            x = self.muon_a * x + B.matmul(self.muon_b * gram + self.muon_c * B.matmul(gram, gram), x)
        return _transpose(x) if tall else x

    def get_config(self) -> dict:
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon, "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum, "ns_steps": self.ns_steps,
                "nesterov": self.nesterov, "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}


def _transpose(x: Any) -> Any:
    """Swap the last two axes."""
    axes = list(range(len(x.shape)))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return backend.impl.transpose(x, axes)


__all__ = ["Muon"]
