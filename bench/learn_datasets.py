"""Data sets and references for bench:learn-datasets: data Takt's learner was never developed on, from
scikit-learn (its bundled real data sets and its synthetic generators; nothing is downloaded), split
(seeded) into train and test parts, written as CSV (label first), and XGBoost's and scikit-learn's
HistGradientBoosting scores on each split with their default hyper-parameters, one thread.

Usage: learn_datasets.py <dir> <splits>; prints one JSON line: a list of
{name, task, split, rows, features, classes, xgb, hgb} (scores: rmse, or accuracy and logLoss).
The list of data sets and their settings was fixed before Takt was first run on any of them."""
import json
import os
import sys

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

out_dir = sys.argv[1]
splits = int(sys.argv[2])

REGRESSION = {
    "diabetes": lambda: datasets.load_diabetes(return_X_y=True),
    "friedman1": lambda: datasets.make_friedman1(n_samples=2000, noise=1.0, random_state=0),
    "friedman2": lambda: datasets.make_friedman2(n_samples=2000, noise=100.0, random_state=0),
    "friedman3": lambda: datasets.make_friedman3(n_samples=2000, noise=0.1, random_state=0),
    "linear20": lambda: datasets.make_regression(
        n_samples=2000, n_features=20, n_informative=10, noise=10.0, random_state=0
    ),
}
CLASSIFICATION = {
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "digits": lambda: datasets.load_digits(return_X_y=True),
    "classif20": lambda: datasets.make_classification(
        n_samples=3000, n_features=20, n_informative=8, random_state=0
    ),
}


def write(path, X, y):
    np.savetxt(path, np.column_stack([y, X]), delimiter=",", fmt="%.10g")


def log_loss(P, y):
    p = np.clip(P[np.arange(len(y)), y.astype(int)], 1e-15, 1)
    return float(-np.mean(np.log(p)))


def scores(task, model, Xtr, ytr, Xte, yte):
    model.fit(Xtr, ytr)
    if task == "regression":
        return {"rmse": float(np.sqrt(np.mean((model.predict(Xte) - yte) ** 2)))}
    P = model.predict_proba(Xte)
    return {"accuracy": float(np.mean(np.argmax(P, axis=1) == yte)), "logLoss": log_loss(P, yte)}


try:
    import xgboost
except ImportError:
    xgboost = None
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

result = []
for task, table in (("regression", REGRESSION), ("classification", CLASSIFICATION)):
    for name, load in table.items():
        X, y = load()
        for k in range(splits):
            Xtr, Xte, ytr, yte = train_test_split(
                X, y, test_size=0.25, random_state=k, stratify=y if task == "classification" else None
            )
            d = os.path.join(out_dir, f"{name}-{k}")
            os.makedirs(d)
            write(os.path.join(d, "train.csv"), Xtr, ytr)
            write(os.path.join(d, "test.csv"), Xte, yte)
            entry = {
                "name": name,
                "task": task,
                "split": k,
                "dir": d,
                "rows": int(len(y)),
                "features": int(X.shape[1]),
                "classes": int(len(np.unique(y))) if task == "classification" else None,
            }
            if xgboost is not None:
                m = (xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier)(
                    tree_method="hist", n_jobs=1, random_state=0
                )
                entry["xgb"] = scores(task, m, Xtr, ytr, Xte, yte)
            else:
                entry["xgb"] = None
            m = (HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier)(
                random_state=0
            )
            entry["hgb"] = scores(task, m, Xtr, ytr, Xte, yte)
            result.append(entry)

print(json.dumps({"xgboost": xgboost.__version__ if xgboost else None, "sets": result}))
