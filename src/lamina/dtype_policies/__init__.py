"""Dtype policies: the dtype a layer keeps its variables in, and the dtype it computes in.

"float32", "bfloat16", ... compute and store in one dtype; "mixed_float16" and "mixed_bfloat16" keep
variables in float32 (so small updates are not lost) and compute in the low precision (faster, half
the memory for activations). The global policy applies to every layer created without a `dtype=`.
"""

from __future__ import annotations

from typing import Any

from lamina.backend.common import FLOAT_DTYPES, standardize_dtype

MIXED_POLICIES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}

_global_policy: "DTypePolicy | None" = None


class DTypePolicy:
    """A named pair of dtypes: `variable_dtype` for weights, `compute_dtype` for the layer's computations.

    Args:
        name: "float32", "float16", "bfloat16", "float64", "mixed_float16" or "mixed_bfloat16" (also a
            non-float dtype such as "int32", for layers that compute in integers); the global floatx when None.
    """

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            from lamina import config

            name = config.floatx()
        if not isinstance(name, str):
            raise ValueError(f"DTypePolicy: name must be a string such as 'mixed_bfloat16', got {name!r}.")
        self._name = name
        self._compute_dtype, self._variable_dtype = _parse(name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """None: quantized policies are not provided."""
        return None

    @property
    def is_mixed(self) -> bool:
        """Whether computations run in another dtype than the variables are kept in."""
        return self._compute_dtype != self._variable_dtype

    def convert_input(self, x: Any, autocast: bool, dtype: Any) -> Any:
        """x as a tensor of `dtype` when it is a float and autocast is on; anything else unchanged."""
        from lamina import backend

        if not autocast or not hasattr(x, "dtype"):
            return x
        current = backend.impl.dtype_of(x)
        if current in FLOAT_DTYPES and current != standardize_dtype(dtype):
            return backend.impl.cast(x, dtype)
        return x

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<{type(self).__name__} "{self._name}">'


class FloatDTypePolicy(DTypePolicy):
    """The policy of float (and mixed float) layers; Keras's name for the same thing."""


def _parse(name: str) -> tuple[str, str]:
    """(compute dtype, variable dtype) of a policy name."""
    if name in MIXED_POLICIES:
        return MIXED_POLICIES[name], "float32"
    try:
        dtype = standardize_dtype(name)
    except (ValueError, TypeError):
        dtype = None
    if dtype is None or dtype == "object":
        raise ValueError(f"Unknown dtype policy {name!r}: expected 'mixed_float16', 'mixed_bfloat16' or a dtype "
                         f"such as {', '.join(FLOAT_DTYPES)}.")
    return dtype, dtype


def get(identifier: Any) -> DTypePolicy:
    """A policy from a name, a config dict or a policy; None gives the global policy."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return FloatDTypePolicy(identifier)
    try:
        return FloatDTypePolicy(standardize_dtype(identifier))  # a library dtype object (torch.float16, ...)
    except (ValueError, TypeError):
        raise ValueError(f"Cannot interpret {identifier!r} as a dtype policy: expected a name such as "
                         "'mixed_bfloat16', a dtype, or a DTypePolicy.") from None


def serialize(policy: DTypePolicy) -> dict:
    """The Keras-layout dict of a policy."""
    return {"module": "keras", "class_name": type(policy).__name__, "config": policy.get_config(),
            "registered_name": None}


def deserialize(config: dict, custom_objects: dict | None = None) -> DTypePolicy:
    """A policy from serialize()'s dict (or a bare {"name": ...} config)."""
    classes = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy, **(custom_objects or {})}
    if "class_name" not in config:
        return FloatDTypePolicy.from_config(config)
    cls = classes.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown dtype policy class {config['class_name']!r}: expected one of "
                         f"{', '.join(sorted(classes))}.")
    return cls.from_config(config.get("config", {}))


def set_dtype_policy(policy: Any) -> None:
    """Make `policy` (a name or a DTypePolicy) the policy of layers created from now on without dtype=."""
    global _global_policy
    _global_policy = None if policy is None else get(policy)


def dtype_policy() -> DTypePolicy:
    """The global policy: the one set by set_dtype_policy, else the float dtype of lamina.config.floatx()."""
    return _global_policy if _global_policy is not None else FloatDTypePolicy()


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize",
           "set_dtype_policy"]
