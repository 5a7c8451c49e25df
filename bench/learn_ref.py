"""Reference learners for bench:learn: XGBoost and scikit-learn's HistGradientBoostingRegressor with their
default hyper-parameters, on the split the bench wrote. Usage: learn_ref.py <dir>; prints one JSON line."""
import json
import sys
import time

import numpy as np

d = sys.argv[1]
Xtr = np.loadtxt(f"{d}/train.csv", delimiter=",")
Xte = np.loadtxt(f"{d}/test.csv", delimiter=",")
ytr, Xtr = Xtr[:, 0], Xtr[:, 1:]
yte, Xte = Xte[:, 0], Xte[:, 1:]
out = {}


def rmse(p):
    return float(np.sqrt(np.mean((p - yte) ** 2)))


try:
    import xgboost

    t = time.time()
    m = xgboost.XGBRegressor(tree_method="hist", n_jobs=1, random_state=0)
    m.fit(Xtr, ytr)
    out["xgb"] = {"rmse": rmse(m.predict(Xte)), "trainS": time.time() - t, "version": xgboost.__version__}
except ImportError as e:
    out["xgb"] = None
    out["xgbMissing"] = str(e)

try:
    import sklearn
    from sklearn.ensemble import HistGradientBoostingRegressor

    t = time.time()
    m = HistGradientBoostingRegressor(random_state=0)
    m.fit(Xtr, ytr)
    out["hgb"] = {"rmse": rmse(m.predict(Xte)), "trainS": time.time() - t, "version": sklearn.__version__}
except ImportError as e:
    out["hgb"] = None
    out["hgbMissing"] = str(e)

print(json.dumps(out))
