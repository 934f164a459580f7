"""Regularizer penalties and constraint projections on torch and jax, against NumPy; names and configs."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, constraints, regularizers

BACKENDS = ["torch", "jax"]
W = np.random.default_rng(3).normal(size=(4, 3)).astype("float32") * 2


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _norms(w, axis):
    return np.sqrt((w.astype("float64") ** 2).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("regularizer, expected", [
    (regularizers.L1(), 0.01 * np.abs(W).sum()),
    (regularizers.L1(0.3), 0.3 * np.abs(W).sum()),
    (regularizers.L2(), 0.01 * (W.astype("float64") ** 2).sum()),
    (regularizers.L2(l2=0.2), 0.2 * (W.astype("float64") ** 2).sum()),
    (regularizers.L1L2(l1=0.1, l2=0.05), 0.1 * np.abs(W).sum() + 0.05 * (W.astype("float64") ** 2).sum()),
    (regularizers.l1_l2(), 0.01 * np.abs(W).sum() + 0.01 * (W.astype("float64") ** 2).sum()),
], ids=["l1", "l1_0.3", "l2", "l2_0.2", "l1l2", "l1_l2_function"])
def test_penalties(backend_name: str, regularizer: regularizers.Regularizer, expected: float) -> None:
    with backend.use(backend_name) as B:
        assert float(_np(regularizer(B.convert_to_tensor(W)))) == pytest.approx(expected, rel=1e-5)


def test_zero_penalty() -> None:
    with backend.use("torch") as B:
        assert float(_np(regularizers.L1L2()(B.convert_to_tensor(W)))) == 0.0


@pytest.mark.parametrize("identifier, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.01}), ("L2", regularizers.L2, {"l2": 0.01}),
    ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01}), ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
])
def test_get_by_name(identifier: str, cls: type, config: dict) -> None:
    regularizer = regularizers.get(identifier)
    assert type(regularizer) is cls and regularizer.get_config() == config


def test_regularizer_errors_and_round_trip() -> None:
    with pytest.raises(ValueError, match="l2 must be a non-negative float, got -0.1"):
        regularizers.L2(-0.1)
    with pytest.raises(ValueError, match="l1 must be a non-negative float"):
        regularizers.L1L2(l1=float("nan"))
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'. Did you mean"):
        regularizers.get("l3")
    for regularizer in (regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4)):
        again = regularizers.get(regularizers.serialize(regularizer))
        assert type(again) is type(regularizer) and again.get_config() == regularizer.get_config()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_constraints(backend_name: str) -> None:
    w = W.astype("float64")
    with backend.use(backend_name) as B:
        t = B.convert_to_tensor(W)
        np.testing.assert_allclose(_np(constraints.NonNeg()(t)), np.maximum(w, 0), atol=1e-6)
        for axis in (0, 1):
            norms = _norms(W, axis)
            np.testing.assert_allclose(_np(constraints.MaxNorm(1.5, axis=axis)(t)),
                                       w * np.minimum(norms, 1.5) / (norms + 1e-7), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(_np(constraints.UnitNorm(axis=axis)(t)), w / (norms + 1e-7), rtol=1e-5)
            desired = 0.5 * np.clip(norms, 1.0, 2.0) + 0.5 * norms
            np.testing.assert_allclose(_np(constraints.MinMaxNorm(1.0, 2.0, rate=0.5, axis=axis)(t)),
                                       w * desired / (norms + 1e-7), rtol=1e-5, atol=1e-6)
        # the projected weights satisfy the constraint
        assert _norms(_np(constraints.MaxNorm(1.5)(t)), 0).max() <= 1.5 + 1e-5
        np.testing.assert_allclose(_norms(_np(constraints.UnitNorm()(t)), 0), 1.0, rtol=1e-5)


def test_constraint_names_and_round_trip() -> None:
    assert type(constraints.get("max_norm")) is constraints.MaxNorm
    assert type(constraints.get("NonNeg")) is constraints.NonNeg
    assert type(constraints.get("min_max_norm")) is constraints.MinMaxNorm
    assert constraints.MaxNorm().get_config() == {"max_value": 2.0, "axis": 0}  # Keras's defaults
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    for constraint in (constraints.MaxNorm(3.0, axis=1), constraints.UnitNorm(axis=1), constraints.NonNeg(),
                       constraints.MinMaxNorm(0.5, 1.5, 0.8, 1)):
        again = constraints.get(constraints.serialize(constraint))
        assert type(again) is type(constraint) and again.get_config() == constraint.get_config()
    with pytest.raises(ValueError, match="Unknown constraint 'unit_norms'. Did you mean 'unit_norm'"):
        constraints.get("unit_norms")


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(backend_name: str, mode: str) -> None:
    w = W.astype("float64") if mode == "rows" else W.astype("float64").T
    unit = w / np.linalg.norm(w, axis=1, keepdims=True)
    product = unit @ unit.T
    n = len(w)
    expected = 0.2 * np.abs(product - np.diag(np.diag(product))).sum() / (n * (n - 1))
    with backend.use(backend_name) as B:
        penalty = regularizers.OrthogonalRegularizer(factor=0.2, mode=mode)(B.convert_to_tensor(W))
        np.testing.assert_allclose(float(B.convert_to_numpy(penalty)), expected, rtol=1e-5)
        orthogonal = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))[0].astype("float32")
        penalty = regularizers.OrthogonalRegularizer()(B.convert_to_tensor(orthogonal))
        assert abs(float(B.convert_to_numpy(penalty))) < 1e-6


def test_orthogonal_regularizer_names_errors_and_deserialize() -> None:
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert regularizers.get("orthogonal_regularizer").get_config() == {"factor": 0.01, "mode": "rows"}
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with backend.use("torch") as B, pytest.raises(ValueError, match="2-D"):
        regularizers.OrthogonalRegularizer()(B.ones((2, 3, 4)))
    again = regularizers.deserialize(regularizers.serialize(regularizers.OrthogonalRegularizer(0.5, "columns")))
    assert again.get_config() == {"factor": 0.5, "mode": "columns"}
    assert isinstance(regularizers.deserialize("l1_l2"), regularizers.L1L2)
