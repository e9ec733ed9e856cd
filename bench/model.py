"""Benchmark: score 100,000 walks with FallRiskModel.predict_frame.

Prints walks per second, the ratio to a bare NumPy logistic function on the
same features (baseline, measured in the same run; target ≤ 5×) and the
time to load the model. Run: ``python bench/model.py``.
"""

from __future__ import annotations

import time

N = 100_000
REPEATS = 5


def make_frame(n: int, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "mean_seconds": rng.lognormal(1.7, 0.35, n).clip(1, 120),
        "population": rng.choice(["community", "nursing_home", "parkinsons"], n),
        "sex": rng.choice(["female", "male", None], n),
        "prior_falls": rng.choice([0.0, 1.0, 2.0, np.nan], n),
        "walking_aid": rng.choice([0.0, 1.0, np.nan], n),
    })


def baseline(frame, coef):
    """Bare logistic: per-population intercept and ln-time slope, prior-fall and aid terms."""
    import numpy as np

    pop = frame["population"].to_numpy()
    k = np.select([pop == "community", pop == "nursing_home", pop == "parkinsons"], [0, 1, 2], 0)
    sex = frame["sex"].to_numpy()
    prior = frame["prior_falls"].to_numpy(dtype=float)
    aid = frame["walking_aid"].to_numpy(dtype=float)
    eta = (coef[k] + coef[3 + k] * np.log(frame["mean_seconds"].to_numpy(dtype=float))
           + coef[6] * ((sex == "female").astype(float) - (sex == "male")) * (k == 0)
           + coef[7 + k] * (prior == 0) + coef[10 + k] * (prior >= 1)
           + coef[13 + k] * (aid == 0) + coef[16 + k] * (aid == 1))
    return 1.0 / (1.0 + np.exp(-eta))


def best(fn, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    start = time.perf_counter()
    import models.persist as persist  # imports numpy, pandas, scikit-learn, skops

    import_seconds = time.perf_counter() - start
    load_seconds = best(lambda: persist.load(persist.default_artifact_path()), 3)
    model = persist.load_default_model()
    frame = make_frame(N)
    model.predict_frame(frame)  # warm-up
    t_model = best(lambda: model.predict_frame(frame))
    t_base = best(lambda: baseline(frame, model.coef))
    ratio = t_model / t_base
    print(f"model load: {load_seconds * 1000:.0f} ms (plus {import_seconds:.2f} s of first imports)")
    print(f"predict_frame: {N:,} walks in {t_model * 1000:.1f} ms = {N / t_model:,.0f} walks/s "
          "(validation, age check, probability, 95 % interval over both scenarios, category)")
    print(f"baseline bare NumPy logistic: {t_base * 1000:.1f} ms = {N / t_base:,.0f} walks/s")
    print(f"ratio to baseline: {ratio:.2f}x (target <= 5x) {'OK' if ratio <= 5 else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
