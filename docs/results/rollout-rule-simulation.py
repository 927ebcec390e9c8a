"""The shadow decision rule of RolloutEvaluator, simulated: how often it decides wrong and how many
labels it needs when the candidate is 2 points worse or better than stable and the two models
disagree (one right, one wrong) on 14 % of requests, as in bench rollout. Needs numpy and scipy.

    python3 docs/results/rollout-rule-simulation.py
"""
import numpy as np
from scipy.special import betainc

rng = np.random.default_rng(1)


def run(diff, disc=0.14, eps=0.01, thr=0.99, min_pairs=200, min_disagreements=0, max_pairs=20000):
    q = 0.5 + diff / (2 * disc)  # P(candidate right | exactly one is right)
    a = b = n = 0
    while n < max_pairs:
        n += 1
        if rng.random() < disc:
            if rng.random() < q:
                a += 1
            else:
                b += 1
        if n < min_pairs or a + b < min_disagreements:
            continue
        r = (a + b + 1) / (n + 2)
        p_promote = 1 - betainc(1 + a, 1 + b, max(0.0, 0.5 - eps / (2 * r)))
        p_rollback = betainc(1 + a, 1 + b, 0.5)
        if p_promote >= thr:
            return 'promote', n
        if p_rollback >= thr:
            return 'rollback', n
    return 'keep', n


for min_pairs, min_dis, thr in [(200, 0, 0.99), (200, 60, 0.99), (200, 80, 0.99), (200, 50, 0.995), (200, 80, 0.995)]:
    wrong = 0
    labels = []
    for _ in range(2000):
        k, n = run(-0.02, min_pairs=min_pairs, min_disagreements=min_dis, thr=thr)
        labels.append(n)
        wrong += k == 'promote'
        k, n = run(+0.02, min_pairs=min_pairs, min_disagreements=min_dis, thr=thr)
        labels.append(n)
        wrong += k == 'rollback'
    labels = np.array(labels)
    print(f"min pairs {min_pairs}, min disagreements {min_dis}, threshold {thr}: wrong per decision {wrong / 4000:.4f}, "
          f"P(0 wrong in 40) {(1 - wrong / 4000) ** 40:.2f}, labels median {np.median(labels):.0f}, "
          f"above 2,000 {np.mean(labels > 2000):.3f}")
