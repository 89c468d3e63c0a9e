"""What the two bootstrap exercises (09.bootstrap_interval, 10.paired_bootstrap) share: the
percentile interval of resampled accuracies, and a comparison that points at the draws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sasr_lite.labs.compare import Case, diagnose, outputs_of


def percentile_interval(samples: np.ndarray, level: float, tail: float | None = None) -> tuple[float, float]:
    """The central ``level`` interval of ``samples``: the ``tail`` and 100 - ``tail`` percentiles
    (default tail 100 (1 - level) / 2, as sasr_lite.evaluate takes them)."""
    tail = 50.0 * (1 - level) if tail is None else tail
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return float(low), float(high)


def compare_pointing_at_draws(names: tuple[str, ...], atol: float) -> Callable[[Any, Case], str | None]:
    """`diagnose` with an extra word when the point estimate is right and only the interval is
    off: the usual cause is resamples drawn some other way than `bootstrap_indices`."""

    def compare(got: Any, case: Case) -> str | None:
        problem = diagnose(got, case, names, atol, 0.0)
        outputs = outputs_of(got, names)
        if problem and problem not in case.mistakes and not isinstance(outputs, str) \
                and abs(float(outputs[0]) - case.expected[0]) <= atol:
            problem += (f"; your {names[0]} is right, so check the draws: use "
                        "sasr_lite.evaluate.bootstrap_indices(N, n_boot, seed), the package's resamples")
        return problem

    return compare
