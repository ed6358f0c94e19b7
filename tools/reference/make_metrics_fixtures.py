#!/usr/bin/env python3
"""Independent references for qat's binary-classifier metrics
(src/eval/binary_metrics.h) and its logistic-regression baseline
(src/finance/logistic_regression.h), computed with scikit-learn.

Writes tests/fixtures/finance/:
  binary_metrics.json   cases of (scores, labels) and what sklearn computes:
      roc_auc              roc_auc_score
      average_precision    average_precision_score
      recall_at_fpr        {max_fpr: max(tpr[fpr <= max_fpr])} on
                           roc_curve(drop_intermediate=False)
      ks                   max(tpr - fpr) on the same curve
      brier, log_loss      brier_score_loss, log_loss(labels=[0, 1])
      at_threshold         [{threshold, accuracy, precision, recall, f1}] with
                           y_pred = score >= threshold, zero_division=0
      roc_fpr / roc_tpr    roc_curve(drop_intermediate=False), cases with
                           n <= 400 only (size)
      pr_recall / pr_precision  precision_recall_curve, reversed to
                           decreasing threshold (so it starts at (0, 1))
    With one class the ranking metrics are null: qat returns NaN there by
    design. sklearn agrees for roc_auc_score (NaN + warning); its
    average_precision_score returns 1.0 (all positive) or 0 (all negative),
    which this script checks and records as "sklearn_average_precision".
  logistic.json         sparse binary datasets (each example the list of its
      active feature ids, duplicates included on purpose: they count once),
      and LogisticRegression(C, solver="lbfgs", tol=1e-10, max_iter=10000)'s
      coef_, intercept_ and predict_proba[:, 1]. lbfgs stops on scipy's ftol
      (64 * eps in the objective), about 1e-7..1e-6 from the optimum in the
      coefficients, so the same fit with solver="newton-cg" (which stops on
      the gradient) is recorded too ("newton_cg_coef", "newton_cg_intercept")
      and must agree with lbfgs to 5e-6 (asserted here; "lbfgs_newton_cg_gap"
      is the largest difference).

Deterministic (seeded numpy generator).
Run: .venv-ref/bin/python tools/reference/make_metrics_fixtures.py
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score,
                             brier_score_loss, f1_score, log_loss,
                             precision_recall_curve, precision_score,
                             recall_score, roc_auc_score, roc_curve)

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "finance")
MAX_FPRS = [0.0, 0.01, 0.05, 0.1, 0.5, 1.0]
THRESHOLDS = [0.5, 0.3]


def metrics_case(name, scores, labels, note):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    case = {"name": name, "note": note, "scores": scores.tolist(), "labels": labels.tolist()}
    one_class = len(np.unique(labels)) < 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        auc = roc_auc_score(labels, scores)
        ap = average_precision_score(labels, scores)
        fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
        precision, recall, _ = precision_recall_curve(labels, scores)
    if one_class:
        assert math.isnan(auc)
        assert ap == (1.0 if labels[0] == 1 else 0.0), ap
        case.update(roc_auc=None, average_precision=None, ks=None,
                    recall_at_fpr={str(f): None for f in MAX_FPRS},
                    sklearn_average_precision=float(ap))
    else:
        case.update(roc_auc=float(auc), average_precision=float(ap),
                    ks=float(np.max(tpr - fpr)),
                    recall_at_fpr={str(f): float(np.max(tpr[fpr <= f])) for f in MAX_FPRS})
        if len(scores) <= 400:
            case.update(roc_fpr=fpr.tolist(), roc_tpr=tpr.tolist(),
                        pr_recall=recall[::-1].tolist(), pr_precision=precision[::-1].tolist())
    case["brier"] = float(brier_score_loss(labels, scores))
    case["log_loss"] = float(log_loss(labels, scores, labels=[0, 1]))
    case["at_threshold"] = []
    for t in THRESHOLDS:
        pred = (scores >= t).astype(np.int64)
        kw = dict(zero_division=0, labels=[0, 1], pos_label=1)
        case["at_threshold"].append({
            "threshold": t,
            "accuracy": float(accuracy_score(labels, pred)),
            "precision": float(precision_score(labels, pred, **kw)),
            "recall": float(recall_score(labels, pred, **kw)),
            "f1": float(f1_score(labels, pred, **kw)),
        })
    return case


def metric_cases(rng):
    cases = []
    n = 300
    y = (rng.random(n) < 0.3).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * y)))
    cases.append(metrics_case("random", s, y, "continuous scores, no ties"))

    y = (rng.random(n) < 0.4).astype(int)
    s = np.round(np.clip(0.35 + 0.25 * y + rng.normal(scale=0.2, size=n), 0, 1), 1)
    cases.append(metrics_case("heavy_ties", s, y, "scores rounded to 0.1: 11 distinct values"))

    y = (rng.random(50) < 0.3).astype(int)
    cases.append(metrics_case("all_equal", np.full(50, 0.5), y, "one score for every example"))

    n = 3000
    y = np.zeros(n, dtype=int)
    y[rng.choice(n, size=30, replace=False)] = 1
    s = np.round(1 / (1 + np.exp(-(rng.normal(size=n) - 3 + 2.5 * y))), 6)
    cases.append(metrics_case("imbalanced_1pct", s, y, "30 positives in 3000, scores to 6 decimals"))

    y = np.array([0] * 20 + [1] * 10)
    s = np.concatenate([rng.uniform(0, 0.4, 20), rng.uniform(0.6, 1, 10)])
    cases.append(metrics_case("perfect", s, y, "every positive above every negative"))
    cases.append(metrics_case("inverted", 1 - s, y, "every positive below every negative"))

    cases.append(metrics_case("confident_wrong", [0.0, 1.0, 1.0, 0.0, 1e-17, 0.9999999999999999],
                              [1, 0, 1, 0, 1, 0], "0 and 1 scores: log loss clipping"))
    cases.append(metrics_case("two", [0.2, 0.7], [1, 0], "n = 2, wrongly ranked"))
    cases.append(metrics_case("tie_two", [0.4, 0.4, 0.9], [1, 0, 0], "a tie straddling a class"))
    cases.append(metrics_case("one_positive", [0.8], [1], "n = 1, positive"))
    cases.append(metrics_case("one_negative", [0.3], [0], "n = 1, negative"))
    cases.append(metrics_case("all_negative", [0.1, 0.6, 0.2], [0, 0, 0], "no positives"))
    return cases


def sparse_dataset(rng, n, n_features, mean_active, coef_scale, bias, unused):
    """Active lists with duplicates; labels from a logistic model."""
    true_w = rng.normal(scale=coef_scale, size=n_features)
    examples, X = [], np.zeros((n, n_features))
    usable = np.array([j for j in range(n_features) if j not in unused])
    for i in range(n):
        k = 1 + rng.poisson(mean_active - 1)
        ids = rng.choice(usable, size=k, replace=True).tolist()  # duplicates allowed
        if rng.random() < 0.1:
            ids = []  # some examples have no active feature: intercept only
        examples.append([int(j) for j in ids])
        X[i, ids] = 1.0
    p = 1 / (1 + np.exp(-(X @ true_w + bias)))
    y = (rng.random(n) < p).astype(int)
    return examples, X, y


def separable_dataset(rng, n, n_features):
    """Feature 0 alone decides the label: no finite unregularized optimum."""
    examples, X = [], np.zeros((n, n_features))
    y = (rng.random(n) < 0.5).astype(int)
    for i in range(n):
        ids = rng.choice(np.arange(1, n_features), size=3).tolist()
        if y[i]:
            ids.append(0)
        examples.append([int(j) for j in ids])
        X[i, ids] = 1.0
    return examples, X, y


def logistic_case(name, examples, X, y, C, n_features):
    fits = {}
    for solver in ("lbfgs", "newton-cg"):
        m = LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=10000)
        m.fit(X, y)
        fits[solver] = m
    a, b = fits["lbfgs"], fits["newton-cg"]
    gap = max(np.max(np.abs(a.coef_ - b.coef_)), abs(a.intercept_[0] - b.intercept_[0]))
    assert gap < 5e-6, (name, gap)
    return {
        "name": name, "C": C, "n_features": n_features,
        "examples": examples, "labels": y.tolist(),
        "coef": a.coef_[0].tolist(), "intercept": float(a.intercept_[0]),
        "proba": a.predict_proba(X)[:, 1].tolist(),
        "newton_cg_coef": b.coef_[0].tolist(), "newton_cg_intercept": float(b.intercept_[0]),
        "lbfgs_newton_cg_gap": float(gap),
    }


def logistic_cases(rng):
    cases = []
    ex, X, y = sparse_dataset(rng, 500, 40, 5, 1.0, -0.5, unused={37, 38, 39})
    cases.append(logistic_case("sparse_c1", ex, X, y, 1.0, 40))
    ex, X, y = sparse_dataset(rng, 500, 40, 8, 1.5, -2.5, unused={0})
    cases.append(logistic_case("sparse_imbalanced_c10", ex, X, y, 10.0, 40))
    ex, X, y = separable_dataset(rng, 200, 12)
    cases.append(logistic_case("separable_c1", ex, X, y, 1.0, 12))
    return cases


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261127)
    meta = {"sklearn": sklearn.__version__, "numpy": np.__version__,
            "script": "tools/reference/make_metrics_fixtures.py"}
    write("binary_metrics.json", {**meta, "max_fprs": MAX_FPRS, "cases": metric_cases(rng)})
    write("logistic.json", {**meta, "cases": logistic_cases(rng)})


if __name__ == "__main__":
    main()
