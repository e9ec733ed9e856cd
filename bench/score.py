"""Batch-scoring benchmark: 100,000 walks from CSV.

Prints walks per second for ``stepback score --csv`` (read, validate,
score, fall-risk model, write) and the ratio to the baseline: pandas merely reading and
writing the same CSV, measured in the same run. Target: ratio ≤ 3.

    python bench/score.py [--walks 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from assessment import POPULATION_IDS
from cli import score_batch
from models import load_default_model


def make_csv(path: Path, n: int, seed: int = 7) -> None:
    """A realistic batch: 2 trials (10 % with a third), ages 60–95, all populations."""
    rng = np.random.default_rng(seed)
    t1 = np.round(rng.lognormal(np.log(5.3), 0.35, n).clip(1.0, 120.0), 2)
    t2 = np.round((t1 * rng.normal(0.97, 0.05, n)).clip(1.0, 120.0), 2)
    t3 = np.where(rng.random(n) < 0.1, np.round((t1 * rng.normal(0.95, 0.05, n)).clip(1.0, 120.0), 2), np.nan)
    prev = np.where(rng.random(n) < 0.5, np.round((t1 * rng.normal(1.05, 0.1, n)).clip(1.0, 120.0), 2), np.nan)
    pd.DataFrame({
        "age": rng.integers(60, 96, n),
        "sex": rng.choice(["female", "male"], n),
        "population": rng.choice(POPULATION_IDS, n, p=[0.65] + [0.35 / (len(POPULATION_IDS) - 1)] * (len(POPULATION_IDS) - 1)),
        "trial_1": t1, "trial_2": t2, "trial_3": t3, "previous": prev,
        "prior_falls": rng.choice(["0", "1", "2+", ""], n),
        "walking_aid": rng.choice(["yes", "no", ""], n),
    }).to_csv(path, index=False)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walks", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out, base_out = Path(tmp, "in.csv"), Path(tmp, "scored.csv"), Path(tmp, "copy.csv")
        make_csv(src, args.walks)
        baseline = best_of(args.repeat, lambda: pd.read_csv(src).to_csv(base_out, index=False))
        model = load_default_model()
        scored = best_of(args.repeat, lambda: score_batch(src, out, model))
        assert len(pd.read_csv(out)) == args.walks
    print(f"walks: {args.walks}")
    print(f"baseline (pandas read + write): {baseline:.3f} s, {args.walks / baseline:,.0f} walks/s")
    print(f"stepback score --csv:           {scored:.3f} s, {args.walks / scored:,.0f} walks/s")
    print(f"ratio to baseline: {scored / baseline:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
