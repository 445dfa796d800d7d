"""Independent random streams, one per purpose, derived from one seed.

Each purpose (the population, the course, health events, each support channel) draws from its own
generator, so two strategies run with the same seed share the same graduates and the same health
shocks and differ only by the strategy: a paired comparison with common random numbers. A stream is
keyed by its name, not by its position, so adding a channel never shifts another channel's draws.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str) -> np.random.Generator:
    """The generator for ``purpose`` under base ``seed`` (same inputs, same numbers, bit for bit)."""
    key = zlib.crc32(purpose.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))


def logistic(x: np.ndarray) -> np.ndarray:
    """The inverse logit, for probabilities built from log-odds."""
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities ``p`` (clipped away from 0 and 1, so that it stays finite)."""
    p = np.clip(p, 1e-12, 1.0 - 1e-12)
    return np.log(p) - np.log1p(-p)


def beta_by_mean(rng: np.random.Generator, mean: float, concentration: float, size: int) -> np.ndarray:
    """Draws from a Beta distribution given its mean and concentration (a + b)."""
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size)
