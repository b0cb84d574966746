#!/usr/bin/env python3
"""Writes Tests/MetricsTests/Fixtures/statistics.json, the reference values the tests of
Sources/Metrics/Statistics.swift and Bootstrap.swift compare against:

- Student's t quantiles (scipy.stats.t.ppf) and distribution function (scipy.stats.t.cdf) over
  integer and non-integer degrees of freedom;
- mean, sample standard deviation (numpy, ddof=1), the 95% (and 90%, 99%) t confidence interval's
  half-width t_{1-(1-level)/2, n-1} * s / sqrt(n) and the prediction interval's
  t_{1-(1-level)/2, n-1} * s * sqrt(1 + 1/n), for value lists of n = 2, 3, 5, 8;
- Welch's t-test (scipy.stats.ttest_ind(a, b, equal_var=False): statistic, Welch-Satterthwaite df,
  two-sided p), the one-sample test (ttest_1samp) and the paired test (ttest_rel);
- numpy's default ("linear") quantiles of a few lists, which the bootstrap's percentile rule must
  equal bit for bit;
- the paired bootstrap and the bootstrap share of a predicate, computed by the same procedure as the
  Swift code, written here in plain Python (splitmix64, Lemire's index draw, left-to-right sums,
  numpy's linear percentile rule), so that the Swift test checks the procedure bit for bit; the
  percentiles of the resampled differences are also checked here against numpy.quantile.

    pip install scipy==1.17.1 numpy==2.4.6
    python3 tools/make_stats_fixtures.py

The file records the versions that made it. The tests read it only; they never need Python.
"""
import json
import math
import platform
import random
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "MetricsTests" / "Fixtures" / "statistics.json"
MASK = (1 << 64) - 1

PROBABILITIES = [0.975, 0.95, 0.995, 0.5, 0.025, 0.9995, 1e-6, 0.3]
DEGREES = [1, 2, 3, 4, 5, 9, 29, 100, 1000, 100_000, 1_000_000, 2.5, 7.3, 1.5, 0.7]
T_VALUES = [-40.0, -3.0, -1.0, -0.1, 0.0, 1e-5, 0.5, 1.96, 2.5, 10.0]

# Value lists for the intervals: n = 2, 3, 5, 8, seeds' accuracies and losses of different scales.
VALUE_LISTS = [
    [0.61, 0.64],
    [1.0, 2.0, 4.0],
    [0.512, 0.498, 0.530, 0.505, 0.521],
    [2.3125, 2.2871, 2.3402, 2.2999, 2.3310, 2.3050, 2.2954, 2.3188],
    [1710.0, 1690.5, 1702.25],
    [-0.3, 0.1, 0.05, -0.12, 0.2],
]
LEVELS = [0.95, 0.9, 0.99]

# Pairs for Welch's and the paired test (the paired ones have equal lengths).
PAIRS = [
    ([0.512, 0.498, 0.530, 0.505, 0.521], [0.47, 0.49, 0.455, 0.5, 0.481]),
    ([1.0, 2.0, 3.0], [2.0, 4.0, 7.0, 1.0]),
    ([2.3125, 2.2871, 2.3402], [2.3310, 2.3050, 2.2954, 2.3188, 2.31, 2.29]),
    ([0.61, 0.64], [0.60, 0.66]),
    ([10.0, 10.5, 9.8, 10.2, 10.1, 9.9, 10.3, 10.0], [10.0, 10.4, 9.9, 10.1, 10.0, 10.0, 10.2, 9.9]),
    ([0.0, 1.0, 0.0, 1.0, 1.0], [5.0, 6.0, 5.5, 5.25, 6.5]),  # far apart: a tiny p
]


def t_distribution():
    quantiles = [{"p": p, "df": df, "t": float(stats.t.ppf(p, df))} for df in DEGREES for p in PROBABILITIES]
    cdf = []
    for df in DEGREES:
        for t in T_VALUES:
            value = float(stats.t.cdf(t, df))
            if value == 0.0 or value < 1e-290:
                continue  # underflow: nothing to compare relatively
            cdf.append({"t": t, "df": df, "cdf": value})
    return {"quantiles": quantiles, "cdf": cdf}


def intervals():
    rows = []
    for values in VALUE_LISTS:
        x = np.array(values, dtype=np.float64)
        n = len(values)
        mean = float(np.mean(x))
        sd = float(np.std(x, ddof=1))
        for level in LEVELS:
            t = float(stats.t.ppf(1 - (1 - level) / 2, n - 1))
            rows.append({"values": values, "level": level, "mean": mean, "standard_deviation": sd,
                         "t": t, "confidence_half_width": t * sd / math.sqrt(n),
                         "prediction_half_width": t * sd * math.sqrt(1 + 1 / n)})
    return rows


def t_tests():
    welch, one_sample, paired = [], [], []
    for a, b in PAIRS:
        r = stats.ttest_ind(a, b, equal_var=False)
        va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))  # Welch-Satterthwaite
        assert abs(df - float(r.df)) <= 1e-12 * df, (df, r.df)
        welch.append({"a": a, "b": b, "statistic": float(r.statistic), "df": float(r.df), "p": float(r.pvalue)})
        if len(a) == len(b):
            r = stats.ttest_rel(a, b)
            d = np.array(a) - np.array(b)
            ci = r.confidence_interval(0.95)
            paired.append({"a": a, "b": b, "statistic": float(r.statistic), "df": float(r.df),
                           "p": float(r.pvalue), "mean_difference": float(np.mean(d)),
                           "low": float(ci.low), "high": float(ci.high)})
    for values in VALUE_LISTS:
        for popmean in [0.0, 0.5]:
            r = stats.ttest_1samp(values, popmean)
            one_sample.append({"values": values, "popmean": popmean, "statistic": float(r.statistic),
                               "df": float(r.df), "p": float(r.pvalue)})
    return {"welch": welch, "one_sample": one_sample, "paired": paired}


# ---- The bootstrap's procedure, exactly as Sources/Metrics/Bootstrap.swift runs it.

class SplitMix64:
    """Steele, Lea and Flood's splitmix64 (the seeding generator of xoshiro)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def index_below(self, n):
        """Lemire's multiply-and-reject draw: exactly uniform on 0..<n."""
        m = self.next() * n
        if (m & MASK) < n:
            threshold = ((1 << 64) - n) % n
            while (m & MASK) < threshold:
                m = self.next() * n
        return m >> 64


def linear_quantile(sorted_values, q):
    """numpy's default quantile ("linear", Hyndman and Fan's type 7), in numpy's own arithmetic."""
    n = len(sorted_values)
    h = (n - 1) * q
    if h >= n - 1:
        return sorted_values[-1]
    if h <= 0:
        return sorted_values[0]
    lo = math.floor(h)
    g = h - lo
    a, b = sorted_values[lo], sorted_values[lo + 1]
    d = b - a
    return b - d * (1 - g) if g >= 0.5 else a + d * g


def mean_at(values, indices):
    total = 0.0
    for i in indices:  # left to right, as the Swift loop (Python's sum() compensates since 3.12)
        total += values[i]
    return total / len(indices)


def resamples(n, count, seed):
    generator = SplitMix64(seed)
    for _ in range(count):
        yield [generator.index_below(n) for _ in range(n)]


def paired_bootstrap(a, b, count, seed, level):
    differences = sorted(mean_at(a, idx) - mean_at(b, idx) for idx in resamples(len(a), count, seed))
    alpha = (1 - level) / 2
    lower, upper = linear_quantile(differences, alpha), linear_quantile(differences, 1 - alpha)
    numpy_lower, numpy_upper = np.quantile(np.array(differences), [alpha, 1 - alpha])
    assert (lower, upper) == (float(numpy_lower), float(numpy_upper)), "the percentile rule is numpy's"
    everything = list(range(len(a)))
    return {"a": a, "b": b, "resamples": count, "seed": seed, "level": level,
            "observed": mean_at(a, everything) - mean_at(b, everything),
            "lower": lower, "upper": upper,
            "share_below_zero": sum(1 for d in differences if d < 0) / count,
            "first_differences": [mean_at(a, idx) - mean_at(b, idx) for idx in resamples(len(a), 5, seed)]}


def bootstrap():
    rng = random.Random(20240611)
    n = 25
    base = [round(rng.uniform(0.3, 0.9), 4) for _ in range(n)]
    a = [round(v + rng.gauss(0.02, 0.05), 4) for v in base]
    b = [round(v + rng.gauss(0.0, 0.05), 4) for v in base]
    correct_a = [1.0 if rng.random() < 0.7 else 0.0 for _ in range(40)]
    correct_b = [1.0 if rng.random() < 0.6 else 0.0 for _ in range(40)]

    generator = SplitMix64(1234567)
    splitmix = {"seed": 1234567, "outputs": [str(generator.next()) for _ in range(5)]}
    draws = []
    # the last bound rejects about one draw in four (2^64 mod n = 2^62 - 37035)
    for bound in [1, 2, 3, 7, 25, 1000, 10_000, (1 << 62) + 12345]:
        generator = SplitMix64(42)
        draws.append({"seed": 42, "bound": str(bound), "indices": [str(generator.index_below(bound)) for _ in range(8)]})

    # Ranking: how often configuration 0 has the highest mean over resampled items.
    configurations = [[round(v + shift + rng.gauss(0, 0.04), 4) for v in base] for shift in (0.01, 0.0, 0.005)]
    best = 0
    for idx in resamples(n, 2000, 7):
        means = [mean_at(c, idx) for c in configurations]
        best += 1 if means[0] > means[1] and means[0] > means[2] else 0

    quantile_lists = [[3.0, 1.0, 2.0], [0.1, 0.7, 0.2, 0.4, 0.9, 0.35, 0.5], [float(v) for v in range(200)],
                      [round(rng.gauss(0, 1), 6) for _ in range(101)]]
    quantiles = []
    for values in quantile_lists:
        results = []
        for q in [0.0, 0.025, (1 - 0.95) / 2, 1 - (1 - 0.95) / 2, 0.5, 0.975, 0.3333, 1.0]:
            mine = linear_quantile(sorted(values), q)
            want = float(np.quantile(np.array(values), q))
            assert mine == want, (values, q, mine, want)
            assert want == float(np.percentile(np.array(values), q * 100)), "np.percentile is the same rule"
            results.append({"q": q, "quantile": want})
        quantiles.append({"values": values, "results": results})

    return {"splitmix64": splitmix, "index_draws": draws, "quantiles": quantiles,
            "paired": [paired_bootstrap(a, b, 2000, 2024, 0.95), paired_bootstrap(a, b, 2000, 2025, 0.95),
                       paired_bootstrap(correct_a, correct_b, 2000, 11, 0.9)],
            "ranking": {"configurations": configurations, "resamples": 2000, "seed": 7,
                        "share_first_best": best / 2000}}


def to_json(value, depth=0):
    """JSON with the two outer levels spread over lines and everything deeper on one line each."""
    pad = " " * (depth + 1)
    if depth < 2 and isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {to_json(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if depth < 2 and isinstance(value, list):
        return "[\n" + ",\n".join(pad + to_json(v, depth + 1) for v in value) + "\n" + " " * depth + "]"
    return json.dumps(value)


if __name__ == "__main__":
    payload = {
        "versions": {"python": platform.python_version(), "scipy": scipy.__version__, "numpy": np.__version__,
                     "made_by": "tools/make_stats_fixtures.py"},
        "t_distribution": t_distribution(),
        "intervals": intervals(),
        "t_tests": t_tests(),
        "bootstrap": bootstrap(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(to_json(payload) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
