"""Random numbers with explicit seed state."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES = (
    Entry("SeedGenerator", "SeedGenerator(seed=None)",
          "the random state of one layer (dropout): explicit state on jax, the global generator elsewhere"),
    Entry("SeedGenerator.next", "next()", "the seed of the next draw (advances the state)"),
    Entry("SeedGenerator.variables", None, "the variables holding its state, carried through a step (may be empty)"),
    Entry("set_seed", "set_seed(seed)", "reseed the backend's own generator: unseeded draws become repeatable"),
    Entry("random_uniform", 'random_uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None)',
          "uniform draws in [minval, maxval)"),
    Entry("random_normal", 'random_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None)',
          "normal draws"),
    Entry("random_permutation", "random_permutation(n, seed=None)", "a random order of range(n), on the device"),
)
