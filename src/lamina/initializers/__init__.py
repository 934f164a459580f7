"""Weight initializers. Values are drawn with NumPy on the host, so a seed gives the same weights on every backend."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from lamina.utils import naming, seeding


def _fans(shape: Sequence[int], input_axes: Any = None, output_axes: Any = None) -> tuple[float, float]:
    """(fan_in, fan_out): by default the last two axes, every other axis a receptive field multiplying both."""
    if input_axes is not None or output_axes is not None:
        return _fans_along(shape, -2 if input_axes is None else input_axes, -1 if output_axes is None else output_axes)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive_field = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)


def _axes(axes: Any, rank: int, name: str) -> set[int]:
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    if any(not -rank <= a < rank for a in axes):
        raise ValueError(f"{name} {axes} is out of range for a weight of rank {rank}.")
    return {a % rank for a in axes}


def _fans_along(shape: Sequence[int], input_axes: Any, output_axes: Any) -> tuple[float, float]:
    """Fans for a weight whose inputs and outputs lie along the given axes; the others are a receptive field."""
    rank = len(shape)
    inputs, outputs = _axes(input_axes, rank, "input_axes"), _axes(output_axes, rank, "output_axes")
    receptive_field = math.prod(shape[a] for a in range(rank) if a not in inputs | outputs)
    return (float(math.prod(shape[a] for a in inputs) * receptive_field),
            float(math.prod(shape[a] for a in outputs) * receptive_field))


def _check_seed(seed: Any) -> Any:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be an int or None, got {seed!r}.")
    return seed


class Initializer:
    """Call with (shape, dtype) to get a NumPy array of initial values."""

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def _rng(self) -> np.random.Generator:
        seed = getattr(self, "seed", None)
        return np.random.default_rng(seed) if seed is not None else seeding.numpy_generator()


class Zeros(Initializer):
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, _check_seed(seed)

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return self._rng().uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, _check_seed(seed)

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return self._rng().normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated_normal(rng: np.random.Generator, stddev: float, shape: Sequence[int]) -> np.ndarray:
    """Normal draws redrawn until they fall within two standard deviations."""
    values = rng.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


class TruncatedNormal(RandomNormal):
    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        return (self.mean + _truncated_normal(self._rng(), self.stddev, shape)).astype(dtype)


class VarianceScaling(Initializer):
    """Variance scale / fan, the fan being fan_in, fan_out or their average."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, input_axes: Any = None, output_axes: Any = None) -> None:
        if scale <= 0.0:
            raise ValueError(f"scale must be a positive float, got {scale!r}.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}.")
        distribution = distribution.lower()
        if distribution == "normal":  # Keras's older name for the truncated normal
            distribution = "truncated_normal"
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"distribution must be 'truncated_normal', 'untruncated_normal' or 'uniform', "
                             f"got {distribution!r}.")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, _check_seed(seed)
        self.input_axes = _axes_config(input_axes)
        self.output_axes = _axes_config(output_axes)

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        fan_in, fan_out = _fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, size=shape)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), size=shape)
        else:  # the constant is the stddev of a unit normal truncated at two stddevs
            values = _truncated_normal(rng, math.sqrt(variance) / 0.87962566103423978, shape)
        return values.astype(dtype)

    def _axes_config(self) -> dict:
        """input_axes and output_axes, only when given (configs of older Keras versions lack them)."""
        return {key: value for key, value in (("input_axes", self.input_axes), ("output_axes", self.output_axes))
                if value is not None}

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                **self._axes_config()}


def _axes_config(axes: Any) -> Any:
    """Axes as an int or a list (JSON-friendly), or None."""
    if axes is None or isinstance(axes, int):
        return axes
    if not all(isinstance(a, int) for a in axes):
        raise ValueError(f"axes must be an int or a sequence of ints, got {axes!r}.")
    return list(axes)


def _variance_scaling(name: str, scale: float, mode: str, distribution: str) -> type:
    def __init__(self: VarianceScaling, seed: int | None = None, input_axes: Any = None,
                 output_axes: Any = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self: VarianceScaling) -> dict:
        return {"seed": self.seed, **self._axes_config()}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": f"VarianceScaling(scale={scale}, mode={mode!r}, "
                                                      f"distribution={distribution!r})."})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix, from the QR decomposition of a normal draw."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, _check_seed(seed)

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of at least 2 dimensions, got {tuple(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = self._rng().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2D shape, got {tuple(shape)}.")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain}


def _window(name: str, length: int, periodic: bool) -> np.ndarray:
    """A named window of `length` samples; periodic windows are the first `length` of one sample more."""
    if length == 1:
        return np.ones(1)
    span = length if periodic else length - 1
    n = np.arange(length)
    phase = 2.0 * np.pi * n / span
    windows = {"hann": lambda: 0.5 - 0.5 * np.cos(phase), "hamming": lambda: 0.54 - 0.46 * np.cos(phase),
               "blackman": lambda: 0.42 - 0.5 * np.cos(phase) + 0.08 * np.cos(2.0 * phase),
               "bartlett": lambda: 1.0 - np.abs(2.0 * n / span - 1.0), "boxcar": lambda: np.ones(length)}
    if name not in windows:
        raise ValueError(f"STFT window must be one of {', '.join(sorted(windows))}, an array or None, got {name!r}.")
    return windows[name]()


class STFT(Initializer):
    """Kernels of a convolution that computes a short-time Fourier transform: the real (side="real") or
    imaginary part of each frequency's complex exponential, windowed and scaled.

    The shape is (frame_length, 1, fft_length // 2 + 1).
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"STFT side must be 'real' or 'imag', got {side!r}.")
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(f"STFT scaling must be None, 'density' or 'spectrum', got {scaling!r}.")
        if isinstance(window, str):
            _window(window, 2, periodic)  # an unknown name fails now, not when building
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, bool(periodic)

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        if len(shape) != 3:
            raise ValueError(f"STFT needs a shape (frame_length, 1, frequencies), got {tuple(shape)}.")
        frame_length, _, bins = shape
        full_length = (bins - 1) * 2
        angles = -2.0 * np.pi * np.arange(frame_length)[:, None, None] * np.arange(bins)[None, None, :] / full_length
        kernel = np.cos(angles) if self.side == "real" else np.sin(angles)
        if self.window is not None:
            window = (_window(self.window, frame_length, self.periodic) if isinstance(self.window, str)
                      else np.asarray(self.window, np.float64))
            if window.shape != (frame_length,):
                raise ValueError(f"STFT window must have frame_length = {frame_length} samples, got shape "
                                 f"{window.shape}.")
            scale = {"density": np.sqrt(np.sum(window ** 2)), "spectrum": np.sum(np.abs(window)), None: 1.0}
            kernel = kernel * window[:, None, None] / scale[self.scaling]
        return np.broadcast_to(kernel, tuple(shape)).astype(dtype)

    def get_config(self) -> dict:
        window = self.window if self.window is None or isinstance(self.window, str) else list(self.window)
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}


ALL = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling, GlorotUniform,
    GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity, STFT)}
ALIASES = {naming.to_snake_case(name): cls for name, cls in ALL.items()}
ALIASES.update({"zeros": Zeros, "ones": Ones, "uniform": RandomUniform, "normal": RandomNormal,
                "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity, "STFTInitializer": STFT,
                "stft": STFT})


# Keras's lower-case and older names of the same classes.
zeros, ones, constant = Zeros, Ones, Constant
random_uniform, random_normal, truncated_normal, variance_scaling = (RandomUniform, RandomNormal, TruncatedNormal,
                                                                     VarianceScaling)
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal, orthogonal, identity = LecunUniform, LecunNormal, Orthogonal, Identity
OrthogonalInitializer, IdentityInitializer, STFTInitializer, stft = Orthogonal, Identity, STFT, STFT


def get(identifier: Any) -> Initializer | None:
    """An initializer from a name, a config dict, an instance or a callable."""
    return naming.resolve("initializer", identifier, Initializer, ALL, ALIASES)


def serialize(initializer: Any) -> Any:
    return naming.describe("lamina.initializers", initializer, Initializer, ALL)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """An initializer from serialize's output (a name or a Keras-layout dict)."""
    if isinstance(config, str):
        return get(config)
    if isinstance(config, dict) and config.get("class_name") in ALIASES and config.get("class_name") not in ALL:
        return ALIASES[config["class_name"]].from_config(config.get("config", {}))
    from lamina.saving import registry

    if isinstance(config, dict) and config.get("class_name") in ALL and not custom_objects:
        return get(config)
    return registry.deserialize_object(config, custom_objects)
