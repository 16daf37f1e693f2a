"""
=========================================
Saving a model safely, and ONNX inference
=========================================

Four ways to take a fitted :class:`~sknumpy_mlp.MLPScratchClassifier` out of the
Python session that trained it:

* ``joblib`` (or ``pickle``): one line, but loading a pickle runs code from the file,
  so only load files you made yourself.
* :func:`sknumpy_mlp.save` / :func:`sknumpy_mlp.load`: arrays and JSON in one
  ``.npz`` file; nothing in it is ever executed, every part is validated on load, and
  the loaded model predicts bit for bit like the original.
* ``skops.io``: pickle-like, but it refuses the types you have not reviewed.
* :func:`sknumpy_mlp.to_onnx`: a graph that any ONNX runtime executes, without Python.
"""

# %%
# A model to save
# ---------------
# ``SKNUMPY_MLP_QUICK=1`` (set by CI) trains for fewer epochs.
import json
import os
import tempfile
import warnings
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
import skops.io as sio
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpy_mlp import MLPScratchClassifier, load, save, to_onnx

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # short runs on purpose

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
clf = MLPScratchClassifier((64,), activation="gelu", batch_norm=True,
                           max_iter=10 if QUICK else 60, random_state=0)
clf.fit(X_train, y_train)
proba = clf.predict_proba(X_test)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

tmp = tempfile.TemporaryDirectory()
folder = Path(tmp.name)

# %%
# joblib
# ------
# Convenient and exact, but a pickle: loading one can run arbitrary code.
joblib.dump(clf, folder / "model.joblib")
assert np.array_equal(joblib.load(folder / "model.joblib").predict_proba(X_test), proba)

# %%
# The safe format: ``save`` and ``load``
# --------------------------------------
# The weights go in as arrays, everything else as JSON; ``load`` reads with
# ``allow_pickle=False`` and checks every array shape, dtype and metadata field.
save(clf, folder / "model.npz")
loaded = load(folder / "model.npz")
assert np.array_equal(loaded.predict_proba(X_test), proba)  # bit for bit
print(f"model.npz: {(folder / 'model.npz').stat().st_size / 1024:.1f} kB")

# %%
# The metadata is plain JSON, readable without sknumpy_mlp:
with np.load(folder / "model.npz", allow_pickle=False) as npz:
    meta = json.loads(npz["metadata"].tobytes())
for key in ("format", "format_version", "network", "target"):
    print(f"{key}: {json.dumps(meta[key])}")

# %%
# A file that is not a model, here the joblib pickle, is refused with a ValueError
# before anything in it runs:
try:
    load(folder / "model.joblib")
except ValueError as exc:
    print(exc)

# %%
# The loaded model keeps training (with a fresh optimizer: Adam's moments are not
# saved):
loaded.partial_fit(X_train, y_train)
print(f"after one more epoch: {loaded.score(X_test, y_test):.3f}")

# %%
# skops
# -----
# skops stores the objects themselves and loads only the types you trust. List what
# a file needs, review it, then pass it as ``trusted``:
sio.dump(clf, folder / "model.skops")
untrusted = sio.get_untrusted_types(file=folder / "model.skops")
print("\n".join(untrusted))
from_skops = sio.load(folder / "model.skops", trusted=untrusted)
assert np.array_equal(from_skops.predict_proba(X_test), proba)

# %%
# ONNX
# ----
# The export folds batch normalization into the preceding layer and writes GELU with
# ``Erf``; weights are float32. The outputs are the labels and ``predict_proba``.
model = to_onnx(clf)
(folder / "model.onnx").write_bytes(model.SerializeToString())
session = ort.InferenceSession(str(folder / "model.onnx"),
                               providers=["CPUExecutionProvider"])
labels, onnx_proba = session.run(["label", "probabilities"], {"X": X_test})
assert np.array_equal(labels, clf.predict(X_test))
assert np.allclose(onnx_proba, proba, atol=1e-5)
print(f"largest difference to predict_proba: {np.abs(onnx_proba - proba).max():.1e}")

# %%
# What each file costs, and how close ONNX runtime comes
# -------------------------------------------------------
# joblib, the safe format and skops give back ``predict_proba`` bit for bit; the ONNX
# graph runs in float32 and agrees to about 1e-7.
files = {"joblib": "model.joblib", "sknumpy_mlp.save": "model.npz",
         "skops": "model.skops", "ONNX": "model.onnx"}
sizes = [(folder / name).stat().st_size / 1024 for name in files.values()]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
left.barh(list(files), sizes, color="tab:blue")
left.set(xlabel="file size (KiB)", title="The same model in four files")
for i, size in enumerate(sizes):
    left.text(size, i, f" {size:.0f}", va="center", fontsize="small")
right.scatter(proba.ravel(), onnx_proba.ravel(), s=4, alpha=0.5)
right.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
right.set(xlabel="predict_proba (NumPy)", ylabel="ONNX runtime probability",
          title=f"ONNX vs predict_proba: max |difference| "
                f"{np.abs(onnx_proba - proba).max():.1e}")

# %%
# Saved for the README when ``SKNUMPY_MLP_SAVE_FIGURES=1``.
if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "persistence_onnx.png", dpi=80)
plt.show()
tmp.cleanup()
