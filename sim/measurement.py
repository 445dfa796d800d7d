"""Self-efficacy as a trial measures it: a score with measurement error, and responders.

Capability is latent: nobody, and no trial, observes it. Trials of self-management read a
questionnaire such as the SEMCD-6 (Lorig 2001): a score with measurement error, reported as a
standardised mean difference and, for a plain-words count, as *responders*, people whose score
rose from before the course by at least a threshold. The model reads its graduates the same way.

* The score: ``measured = capability + error``, in SD units of true capability at baseline, with
  ``error ~ N(0, (1 - reliability) / reliability)``, so that the score's reliability (true
  variance over observed variance at baseline) is ``reliability``. Each reading is a fresh
  administration: a new error each week; the pre-course reading's error is drawn once.
* A standardised mean difference on the score is the latent difference times
  ``sqrt(reliability)`` (the observed SD at baseline is ``1 / sqrt(reliability)``): the scale the
  trials' SMDs are on (:func:`smd`).
* A responder: measured change since before the course at least ``responder_threshold_sd`` SD of
  the measured baseline score (Park 2013's rule for a change worth counting, 0.5 SD).
  Measurement error alone makes some people without any gain responders and hides some real
  gains, as in a trial's control arm.

The errors come from their own random stream (``measurement``): every strategy run with the same
seed reads the same people with the same errors, so paired differences stay paired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fields import _num, nonneg
from .runs import ONE, Runs

#: The thresholds (SD of the measured baseline score) at which responders are also counted, for
#: the report's figure of how the count moves with the threshold.
CURVE_THRESHOLDS_SD = (0.25, 0.5, 0.75, 1.0)


@dataclass
class MeasurementParams:
    """How self-efficacy is measured (read as ``dynamics.measurement``)."""

    reliability: float = _num(
        0.85, 0.3, 1.0, doc="share of the measured score's variance that is true capability; SEMCD-6 internal consistency "
              "0.88-0.95 (Ritter & Lorig 2014), test-retest not published: assumed 0.85, range 0.7-0.95"
    )
    responder_threshold_sd: float = nonneg(
        0.5, 3.0, "measured change from before the course that counts as a responder, SD of the measured "
                  "baseline score (Park 2013's 0.5 SD; no minimal important difference published: range 0.25-1)"
    )


def error_sd(params: MeasurementParams) -> float:
    """SD of one reading's error, in SD units of true capability at baseline (per run, in a batch
    whose runs differ: :mod:`sim.runs`)."""
    r = params.reliability  # at least 0.3 (validation): below that a score is mostly noise
    return math.sqrt((1.0 - r) / r) if np.ndim(r) == 0 else np.sqrt((1.0 - r) / r)


def responder_gain_sd(params: MeasurementParams, threshold_sd: float | None = None) -> float:
    """The true gain (SD of capability) a responder's measured change needs on average: the
    threshold (default: the parameter) in SD of the measured baseline score, ``1 / sqrt(reliability)``."""
    t = params.responder_threshold_sd if threshold_sd is None else threshold_sd
    r = params.reliability
    return t / (math.sqrt(r) if np.ndim(r) == 0 else np.sqrt(r))


def error_only_responder_share(params: MeasurementParams) -> float:
    """The share counted as responders without any gain, by measurement error alone:
    ``P(e_t - e_0 >= responder_gain_sd)``, ``e ~ N(0, error_sd^2)``."""
    from scipy.stats import norm  # lazy: only reports and tests ask

    return float(norm.sf(responder_gain_sd(params) / (math.sqrt(2.0) * error_sd(params))))


def smd(latent_difference: float | np.ndarray, params: MeasurementParams) -> float | np.ndarray:
    """A latent difference (SD of true capability) as a standardised mean difference on the score."""
    return latent_difference * math.sqrt(params.reliability)


class Measurement:
    """Reads every graduate's score each week: the pre-course error once, a new error each week.

    In a batch (:mod:`sim.runs`: ``runs``, ``rng`` one generator per run) each run reads its own
    graduates from its own stream with its own reliability and threshold."""

    def __init__(self, params: MeasurementParams, n: int, rng: np.random.Generator, runs: Runs = ONE):
        self.params = params
        self.rng = rng
        self.runs = runs
        self.sd = error_sd(params)
        #: each run's sd as a number (a batch draws each run's readings with its own)
        self._sd_of_run = [self.sd] * runs.k if np.ndim(self.sd) == 0 else np.asarray(self.sd, dtype=float).tolist()
        self.baseline_error = self._errors(n)
        #: the measured baseline score's SD in latent units: thresholds are multiples of it
        self.score_sd = math.sqrt(1.0 + self.sd**2) if np.ndim(self.sd) == 0 else np.sqrt(1.0 + self.sd**2)
        self.change = np.zeros(n)

    def _errors(self, n: int) -> np.ndarray:
        """One reading's errors for every graduate, each run's from its own stream."""
        if self.runs.single:
            return self.rng.normal(0.0, self.sd, n)
        # each run's readings drawn as its own run draws them: normal(0, its sd, n), its sd a number
        # (numpy's path for an array of scales, the same numbers, costs more per reading)
        each = self.runs.n
        out = np.empty(self.runs.k * each)
        for r, (gen, sd) in enumerate(zip(self.rng, self._sd_of_run)):
            out[r * each:(r + 1) * each] = gen.normal(0.0, sd, each)
        return out

    def read(self, gain: np.ndarray) -> np.ndarray:
        """This week's measured change from before the course (latent SD units), for ``gain``."""
        np.subtract(self._errors(gain.size), self.baseline_error, out=self.change)
        self.change += gain
        return self.change

    def responders(self, threshold_sd: float | None = None) -> np.ndarray:
        """Who this week's reading counts as a responder, at ``threshold_sd`` (default: the parameter)."""
        return self.change >= self.runs.each(responder_gain_sd(self.params, threshold_sd))
