"""Learning-rate schedules against NumPy versions of Keras's documented formulas, on torch and jax (eagerly,
with tensor and variable steps, and inside jax.jit), and their configs in Keras's layout."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lamina import backend, saving
from lamina.optimizers import schedules

STEPS = [0, 1, 4, 5, 6, 9, 10, 11, 15, 20, 29, 30, 31, 47, 48, 70, 150, 1000]


# --- NumPy references, in float64 ---------------------------------------------------------------------------

def exponential(lr, decay_steps, rate, staircase=False):
    def at(step):
        p = step / decay_steps
        return lr * rate ** (math.floor(p) if staircase else p)
    return at


def inverse_time(lr, decay_steps, rate, staircase=False):
    def at(step):
        p = step / decay_steps
        return lr / (1 + rate * (math.floor(p) if staircase else p))
    return at


def polynomial(lr, decay_steps, end=0.0001, power=1.0, cycle=False):
    def at(step):
        if cycle:  # decay over the first multiple of decay_steps reaching the step
            steps = decay_steps * max(1, math.ceil(step / decay_steps))
        else:
            steps, step = decay_steps, min(step, decay_steps)
        return (lr - end) * (1 - step / steps) ** power + end
    return at


def piecewise(boundaries, values):
    return lambda step: values[int(np.searchsorted(boundaries, step, side="left"))]


def cosine(lr, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    def at(step):
        start = lr if warmup_target is None else warmup_target
        if warmup_target is not None and step < warmup_steps:
            return lr + (warmup_target - lr) * step / warmup_steps
        fraction = min(step - warmup_steps, decay_steps) / decay_steps
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)
    return at


def restarts(lr, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    def at(step):
        start, length, index = 0.0, float(first_decay_steps), 0
        while step >= start + length:  # walk the periods up to the one holding the step
            start, length, index = start + length, length * t_mul, index + 1
        fraction = (step - start) / length
        return lr * ((1 - alpha) * m_mul**index * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)
    return at


CASES = {
    "exponential": (lambda: schedules.ExponentialDecay(0.1, 10, 0.5), exponential(0.1, 10, 0.5)),
    "exponential_staircase": (lambda: schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
                              exponential(0.1, 10, 0.5, True)),
    "inverse_time": (lambda: schedules.InverseTimeDecay(0.1, 10, 0.5), inverse_time(0.1, 10, 0.5)),
    "inverse_time_staircase": (lambda: schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
                               inverse_time(0.1, 10, 0.5, True)),
    "polynomial": (lambda: schedules.PolynomialDecay(0.1, 20), polynomial(0.1, 20)),
    "polynomial_power": (lambda: schedules.PolynomialDecay(0.1, 20, 0.01, power=2.0), polynomial(0.1, 20, 0.01, 2.0)),
    "polynomial_cycle": (lambda: schedules.PolynomialDecay(0.1, 10, 0.01, power=0.5, cycle=True),
                         polynomial(0.1, 10, 0.01, 0.5, cycle=True)),
    "piecewise": (lambda: schedules.PiecewiseConstantDecay([5, 10, 30], [1.0, 0.5, 0.1, 0.01]),
                  piecewise([5, 10, 30], [1.0, 0.5, 0.1, 0.01])),
    "cosine": (lambda: schedules.CosineDecay(0.1, 30), cosine(0.1, 30)),
    "cosine_alpha": (lambda: schedules.CosineDecay(0.1, 30, alpha=0.2), cosine(0.1, 30, alpha=0.2)),
    "cosine_warmup": (lambda: schedules.CosineDecay(0.0, 30, alpha=0.1, warmup_target=0.2, warmup_steps=10),
                      cosine(0.0, 30, alpha=0.1, warmup_target=0.2, warmup_steps=10)),
    "cosine_warmup_from_lr": (lambda: schedules.CosineDecay(0.05, 20, warmup_target=0.1, warmup_steps=5),
                              cosine(0.05, 20, warmup_target=0.1, warmup_steps=5)),
    "cosine_warmup_zero_steps": (lambda: schedules.CosineDecay(0.05, 20, warmup_target=0.1),
                                 cosine(0.05, 20, warmup_target=0.1)),
    "restarts": (lambda: schedules.CosineDecayRestarts(0.1, 10), restarts(0.1, 10)),
    "restarts_t_mul_1": (lambda: schedules.CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5, alpha=0.1),
                         restarts(0.1, 10, 1.0, 0.5, 0.1)),
    "restarts_m_mul": (lambda: schedules.CosineDecayRestarts(0.1, 8, t_mul=1.5, m_mul=0.7, alpha=0.05),
                       restarts(0.1, 8, 1.5, 0.7, 0.05)),
}


def expected(case: str) -> np.ndarray:
    return np.array([CASES[case][1](step) for step in STEPS])


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_with_python_ints(training_backend, case):
    schedule = CASES[case][0]()
    got = [float(backend.impl.convert_to_numpy(schedule(step))) for step in STEPS]
    np.testing.assert_allclose(got, expected(case), rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_with_the_optimizer_step_counter(training_backend, case):
    """The step as the optimizer holds it: an int64 variable, then its value tensor."""
    B = backend.impl
    schedule = CASES[case][0]()
    counter = B.Variable(np.asarray(0, dtype="int64"), dtype="int64", trainable=False, name="iteration",
                         path="optimizer/iteration")
    got = []
    for step in STEPS:
        counter.assign(B.convert_to_tensor(np.int64(step)))
        rate = schedule(counter.value if step % 2 else counter)
        assert str(B.convert_to_numpy(rate).dtype) == "float32"
        got.append(float(B.convert_to_numpy(rate)))
    np.testing.assert_allclose(got, expected(case), rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_inside_jax_jit(case):
    """The schedule traces: one compiled function evaluates every step from a traced integer."""
    jax = pytest.importorskip("jax")
    with backend.use("jax"):
        schedule = CASES[case][0]()
        compiled = jax.jit(jax.vmap(schedule))
        got = np.asarray(compiled(np.asarray(STEPS, dtype="int32")))
    assert compiled._cache_size() == 1
    np.testing.assert_allclose(got, expected(case), rtol=2e-5, atol=1e-7)


def test_restart_steps_are_exact(training_backend):
    """At the first step of each period the rate is back at its restart value (no float32 log rounding)."""
    schedule = schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    starts = [0, 10, 30, 70, 150, 310, 630]
    got = [float(backend.impl.convert_to_numpy(schedule(step))) for step in starts]
    np.testing.assert_allclose(got, [0.5**i for i in range(len(starts))], rtol=1e-5)


class HalvingEachStep(schedules.LearningRateSchedule):
    """A user schedule, as Keras's documentation writes one."""

    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = initial_learning_rate

    def __call__(self, step):
        return self.initial_learning_rate / (step + 1)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}


def test_user_subclass(training_backend):
    schedule = HalvingEachStep(1.0)
    B = backend.impl
    assert float(B.convert_to_numpy(schedule(B.convert_to_tensor(np.int64(3))))) == pytest.approx(0.25)
    restored = schedules.deserialize(schedules.serialize(schedule), custom_objects={"HalvingEachStep": HalvingEachStep})
    assert isinstance(restored, HalvingEachStep) and restored.initial_learning_rate == 1.0


def test_registered_user_subclass_round_trips_without_custom_objects():
    registered = saving.register_lamina_serializable(package="ScheduleTests")(
        type("RegisteredSchedule", (HalvingEachStep,), {}))
    config = schedules.serialize(registered(0.5))
    assert config["registered_name"] == "ScheduleTests>RegisteredSchedule"
    assert config["class_name"] == "RegisteredSchedule"
    restored = schedules.deserialize(config)
    assert type(restored) is registered and restored.initial_learning_rate == 0.5


def test_base_class_asks_for_the_methods():
    schedule = schedules.LearningRateSchedule()
    with pytest.raises(NotImplementedError, match="__call__"):
        schedule(1)
    with pytest.raises(NotImplementedError, match="get_config"):
        schedule.get_config()


KERAS_CONFIGS = {
    "exponential": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": False,
                    "name": "ExponentialDecay"},
    "inverse_time": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": False,
                     "name": "InverseTimeDecay"},
    "polynomial": {"initial_learning_rate": 0.1, "decay_steps": 20, "end_learning_rate": 0.0001, "power": 1.0,
                   "cycle": False, "name": "PolynomialDecay"},
    "piecewise": {"boundaries": [5, 10, 30], "values": [1.0, 0.5, 0.1, 0.01], "name": "PiecewiseConstant"},
    "cosine": {"initial_learning_rate": 0.1, "decay_steps": 30, "alpha": 0.0, "name": "CosineDecay",
               "warmup_target": None, "warmup_steps": 0},
    "restarts": {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0,
                 "name": "SGDRDecay"},
}


@pytest.mark.parametrize("case", sorted(KERAS_CONFIGS))
def test_config_keys_defaults_and_round_trip(case):
    schedule = CASES[case][0]()
    assert schedule.get_config() == KERAS_CONFIGS[case]
    serialized = schedules.serialize(schedule)
    assert serialized == {"module": "lamina.optimizers.schedules", "class_name": type(schedule).__name__,
                          "config": KERAS_CONFIGS[case], "registered_name": None}
    restored = schedules.deserialize(serialized)
    assert type(restored) is type(schedule) and restored.get_config() == schedule.get_config()
    # A file written by Keras names its own module.
    from_keras = schedules.deserialize({**serialized, "module": "keras.optimizers.schedules"})
    assert from_keras.get_config() == schedule.get_config()


def test_deserialize_keras_documentation_example():
    config = {"class_name": "PolynomialDecay",
              "config": {"cycle": False, "decay_steps": 10000, "end_learning_rate": 0.01,
                         "initial_learning_rate": 0.1, "name": None, "power": 0.5}}
    schedule = schedules.deserialize(config)
    assert isinstance(schedule, schedules.PolynomialDecay)
    assert schedule.power == 0.5 and schedule.end_learning_rate == 0.01


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, -3)
    with pytest.raises(ValueError, match="first_decay_steps"):
        schedules.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        schedules.serialize(0.1)
