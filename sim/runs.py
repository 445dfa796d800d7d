"""Several independent runs in one model's arrays: the layout the batched engine shares with one run.

A model holds ``k`` runs of ``n`` graduates each in flat arrays of ``k * n`` entries, run-major:
run ``r`` owns entries ``r * n`` to ``(r + 1) * n - 1``. One run is the case ``k = 1``. Because
the layout is run-major, every set of graduates the rules pick (``np.flatnonzero(mask)``, sorted)
is grouped by run, in run order, and so is every set of peer groups (group ids are offset per run).
The rules therefore stay the same whatever ``k``; what differs per run goes through :class:`Runs`:

* **Parameters.** A batch's parameter blocks are stacked (:func:`stack`): a value every run shares
  stays the plain number; a value that differs becomes an array of ``k`` (one per run).
  ``runs.at(value, who)`` gives it for graduates (or groups) ``who``, ``runs.each(value)`` for
  every graduate, ``runs.view(block, who)`` a whole block read that way. With one run, or a value
  every run shares, each returns the plain number: one run's arithmetic is unchanged, bit for bit.
* **Random numbers.** Each run keeps its own generators (:mod:`sim.streams`), and draws exactly
  the numbers one run of its own would, in the same order: ``runs.uniform(rng, who)`` draws, from
  each run's generator in turn, one number for each of that run's members of ``who``.
* **Counts and sums per run.** ``runs.count(who)`` (an int with one run; an array of ``k``
  otherwise), ``runs.mean(values)``, ``runs.share(mask)``: one run's value is computed as one run
  computes it (the same numpy reduction over the same numbers), so a run of a batch reports what
  it would report alone.
"""

from __future__ import annotations

import dataclasses
import math
from enum import Enum
from typing import Any

import numpy as np

from .fields import ParameterError


class Runs:
    """``k`` runs of ``n`` graduates each, run-major in one model's flat arrays."""

    def __init__(self, k: int, n: int):
        self.k, self.n = int(k), int(n)
        #: the run of each graduate (None with one run: every graduate is run 0's)
        self.of = np.repeat(np.arange(self.k), self.n) if self.k > 1 else None
        self._bounds = np.arange(self.k + 1) * self.n  # each run's first id, and the end

    @property
    def single(self) -> bool:
        return self.k == 1

    # --- parameters --------------------------------------------------------------------------

    def at(self, value: Any, who: np.ndarray, of: np.ndarray | None = None) -> Any:
        """``value`` for the graduates ``who`` (flat ids): itself if every run shares it, else each
        one's run's entry. ``of``: the run of each entry ``who`` indexes, when ``who`` indexes
        something else than graduates (peer groups: ``of`` = the run of each group)."""
        if np.ndim(value) == 0:
            return value
        return value[(self.of if of is None else of)[who]]

    def each(self, value: Any) -> Any:
        """``value`` for every graduate, in order: itself if every run shares it, else an array of
        ``k * n`` (each run's entry repeated ``n`` times)."""
        if np.ndim(value) == 0:
            return value
        return np.repeat(value, self.n)

    def view(self, block: Any, who: np.ndarray | None = None, of: np.ndarray | None = None) -> Any:
        """A parameter block read for ``who`` (:meth:`at`), or for everyone (``who=None``:
        :meth:`each`). The block itself when no value of it differs between runs."""
        if not getattr(block, "_varying", None):
            return block
        return _BlockView(self, block, who, of)

    # --- random numbers ----------------------------------------------------------------------

    def counts(self, who: np.ndarray, of: np.ndarray | None = None) -> np.ndarray:
        """How many of ``who`` belong to each run (an array of ``k``). ``who`` is grouped by run
        (as every set the rules pick is), so a binary search for each run's first id suffices."""
        if of is None:
            return np.diff(np.searchsorted(who, self._bounds))
        return np.bincount(of[who], minlength=self.k)

    def uniform(self, rng, who: np.ndarray | None = None, of: np.ndarray | None = None) -> np.ndarray:
        """One U(0, 1) number for each of ``who`` (ids grouped by run, as ``np.flatnonzero``
        gives them; None: every graduate), drawn from its own run's generator, in order."""
        if self.single:
            return rng.random(self.n if who is None else who.size)
        if who is None:
            out = np.empty(self.k * self.n)
            for r, gen in enumerate(rng):  # each run's block filled in place: the numbers of random(n)
                gen.random(out=out[r * self.n:(r + 1) * self.n])
            return out
        out = np.empty(who.size)
        lo = 0
        for gen, hi in zip(rng, np.cumsum(self.counts(who, of)).tolist()):
            gen.random(out=out[lo:hi])
            lo = hi
        return out

    def uniform_rows(self, rng, rows: int) -> np.ndarray:
        """``rows`` U(0, 1) numbers for every graduate, shape ``(rows, k * n)``: each run's block
        drawn as one run draws ``rng.random((rows, n))``."""
        if self.single:
            return rng.random((rows, self.n))
        return np.concatenate([r.random((rows, self.n)) for r in rng], axis=1)

    def draw(self, rng, method: str, sizes, *args) -> np.ndarray:
        """``rng.<method>(*args, size=m)`` from each run's generator in turn, ``m`` = that run's
        entry of ``sizes`` (an int with one run), concatenated. Each of ``args`` is a number every
        entry shares or an array of one value per entry (``sum(sizes)``, grouped by run)."""
        if self.single:
            return getattr(rng, method)(*args, size=int(sizes))
        ends = np.cumsum(sizes).tolist()
        out, lo = [], 0
        per_entry = [np.ndim(a) > 0 for a in args]
        for gen, hi in zip(rng, ends):
            parts = [a[lo:hi] if each else a for a, each in zip(args, per_entry)]
            out.append(getattr(gen, method)(*parts, size=hi - lo))
            lo = hi
        return np.concatenate(out)

    def draw_each(self, rng, method: str, *args, where: np.ndarray | None = None):
        """One ``rng.<method>(*args)`` from each run's generator (one number per run), or from the
        runs ``where`` says only (the others get 0): a run's own scalar draw. With one run, the
        draw itself (a number)."""
        if self.single:
            return getattr(rng, method)(*args)
        out = np.zeros(self.k, dtype=np.int64)
        per_run = [np.ndim(a) > 0 for a in args]
        columns = [a.tolist() if each else [a] * self.k for a, each in zip(args, per_run)]
        for r, (gen, *values) in enumerate(zip(rng, *columns)):
            if where is None or where[r]:
                out[r] = getattr(gen, method)(*values)
        return out

    # --- counts and sums per run -------------------------------------------------------------

    def zeros(self, dtype=np.int64) -> Any:
        """A counter per run at 0: the number 0 with one run."""
        return 0 if self.single else np.zeros(self.k, dtype=dtype)

    def count(self, who: np.ndarray, of: np.ndarray | None = None) -> Any:
        """How many of ``who`` (ids) each run has: ``who.size`` with one run."""
        return who.size if self.single else self.counts(who, of)

    def count_true(self, mask: np.ndarray) -> Any:
        """How many graduates ``mask`` holds in each run (``mask`` over every graduate)."""
        if self.single:
            return int(np.count_nonzero(mask))
        return np.count_nonzero(mask.reshape(self.k, self.n), axis=1)

    def share(self, mask: np.ndarray) -> Any:
        """The share of each run's graduates ``mask`` holds, as one run computes it."""
        if self.single:
            return float(np.count_nonzero(mask)) / mask.size
        return np.count_nonzero(mask.reshape(self.k, self.n), axis=1) / self.n

    def mean(self, values: np.ndarray) -> Any:
        """Each run's mean of ``values`` (over every graduate), as one run computes it."""
        if self.single:
            return float(values.mean())
        return values.reshape(self.k, self.n).mean(axis=1)

    def total(self, values: np.ndarray) -> Any:
        """Each run's sum of ``values`` (over every graduate), as one run computes it."""
        if self.single:
            return float(values.sum())
        return values.reshape(self.k, self.n).sum(axis=1)

    def segment(self, reduce: str, values: np.ndarray, who: np.ndarray, of: np.ndarray | None = None,
                empty: float = 0.0) -> Any:
        """Each run's ``values[who].<reduce>()`` (``"sum"`` or ``"mean"``) over its own entries of
        ``who``, computed as one run computes it (numpy's pairwise sum over the same numbers);
        ``empty`` for a run with none. With one run, a float."""
        if self.single:
            return float(getattr(values[who], reduce)()) if who.size or reduce == "sum" else empty
        ends = np.cumsum(self.counts(who, of))
        picked = values[who]
        out = np.full(self.k, empty, dtype=float)
        for r in np.flatnonzero(np.diff(ends, prepend=0)):
            out[r] = getattr(picked[ends[r - 1] if r else 0:ends[r]], reduce)()
        return out

    def ceil(self, x: Any) -> Any:
        """The smallest whole number >= ``x``, per run (an int with one run)."""
        return math.ceil(x) if np.ndim(x) == 0 else np.ceil(x).astype(np.int64)

    def value(self, x: Any, r: int) -> Any:
        """Run ``r``'s value of a per-run quantity (a number every run shares, or an array of ``k``)."""
        return x if np.ndim(x) == 0 else x[r]


#: One run, of any size: what rules use on graduates that are no batch's (arrays of one run).
ONE = Runs(1, 0)


class _BlockView:
    """A parameter block read for some graduates (:meth:`Runs.view`): each differing value indexed."""

    def __init__(self, runs: Runs, block: Any, who: np.ndarray | None, of: np.ndarray | None):
        self._runs, self._block, self._who, self._of = runs, block, who, of

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._block, name)
        if name not in self._block._varying:
            return value
        if self._who is None:
            return self._runs.each(value)
        return self._runs.at(value, self._who, self._of)


# --- stacking parameter blocks -------------------------------------------------------------------


def stack(blocks: list, key: str = "") -> Any:
    """One parameter block for a batch, from each run's (all of the same dataclass): a value every
    run shares stays as it is; a number that differs becomes an array of one entry per run; a
    nested block is stacked in turn. The result records the names of its differing fields in
    ``_varying`` (what :meth:`Runs.view` indexes). Anything else that differs (an enum, a list,
    a name) cannot be batched: :class:`ParameterError` naming the key."""
    first = blocks[0]
    if not dataclasses.is_dataclass(first):
        raise TypeError(f"{key}: a parameter dataclass expected, got {type(first).__name__}")
    changes, varying = {}, set()
    for f in dataclasses.fields(first):
        values = [getattr(b, f.name) for b in blocks]
        name = f"{key}.{f.name}" if key else f.name
        if all(_same(v, values[0]) for v in values[1:]):
            continue
        if dataclasses.is_dataclass(values[0]):
            changes[f.name] = stacked = stack(values, name)
            if getattr(stacked, "_varying", None):
                varying.add(f.name)
        elif all(isinstance(v, (int, float)) and not isinstance(v, (bool, Enum)) for v in values):
            kind = np.int64 if all(isinstance(v, int) for v in values) else float
            changes[f.name] = np.asarray(values, dtype=kind)
            varying.add(f.name)
        else:
            other = next(i for i, v in enumerate(values) if not _same(v, values[0]))
            raise ParameterError(name, values[other], f"must be the same in every run of a batch (run {other} has "
                                 f"it, the first run has {values[0]!r}); run the values apart in separate batches")
    out = dataclasses.replace(first, **changes) if changes else first
    if varying:
        out = dataclasses.replace(first, **changes)  # a copy of its own, to carry the mark
        object.__setattr__(out, "_varying", frozenset(varying))
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
