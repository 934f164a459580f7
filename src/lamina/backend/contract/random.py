"""Random numbers with explicit seed state.

`seed` in these entries is None (the backend's global generator, or a fresh key), an int (a stateless draw:
the same int gives the same values on every call) or the backend's SeedGenerator (advanced by each draw:
two generators made with the same int give the same draws in the same order, on every backend).
"""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES = (
    Entry("SeedGenerator", "SeedGenerator(seed=None)",
          "the random state of one layer (dropout): a small integer variable that each draw advances, read on the "
          "device; without a seed, jax picks a random start and torch and numpy draw from their global generator"),
    Entry("SeedGenerator.next", "next()",
          "the device-side seed of the next draw (advances the state); None for torch's and numpy's unseeded ones"),
    Entry("SeedGenerator.variables", None,
          "the variables holding its state, carried through a step; saving and restoring them repeats the draws "
          "(empty for torch's and numpy's unseeded generators)"),
    Entry("set_seed", "set_seed(seed)", "reseed the backend's own generator: unseeded draws become repeatable"),
    Entry("global_random_state", "global_random_state()",
          "the state of the backend's own generators (behind unseeded draws) as a dict of uint8 arrays"),
    Entry("set_global_random_state", "set_global_random_state(state)",
          "restore a state that global_random_state gave: the unseeded draws after it come again"),
    Entry("random_uniform", 'random_uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None)',
          "uniform draws in [minval, maxval)"),
    Entry("random_normal", 'random_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None)',
          "normal draws"),
    Entry("random_truncated_normal",
          'random_truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None)',
          "normal draws kept within two standard deviations of the mean"),
    Entry("random_randint", 'random_randint(shape, minval, maxval, dtype="int32", seed=None)',
          "integers drawn uniformly from [minval, maxval)"),
    Entry("random_categorical", 'random_categorical(logits, num_samples, dtype="int32", seed=None)',
          "class indices of shape (batch, num_samples) drawn from the (batch, classes) logits"),
    Entry("random_shuffle", "random_shuffle(x, axis=0, seed=None)", "x in a random order along axis"),
    Entry("random_gamma", 'random_gamma(shape, alpha, dtype="float32", seed=None)',
          "gamma draws of concentration alpha and scale 1"),
    Entry("random_beta", 'random_beta(shape, alpha, beta, dtype="float32", seed=None)', "beta(alpha, beta) draws"),
    Entry("random_binomial", 'random_binomial(shape, counts, probabilities, dtype="float32", seed=None)',
          "binomial draws: successes out of counts trials of the given probabilities (broadcast to shape)"),
    Entry("random_permutation", "random_permutation(n, seed=None)", "a random order of range(n), on the device"),
)
