"""A fitted :class:`TabularPreprocessor` as plain JSON, and back, for the safe format.

The JSON holds what the transform needs and nothing of scikit-learn's internals::

    {"params": {...},                       # get_params(), encoded as for estimators
     "names": ["age", "colour"] or null,    # feature_names_in_
     "columns": [                           # one record per input column, in order
       {"kind": "numeric", "center": 41.0, "scale": 12.5, "missing": true},
       {"kind": "binary", "levels": ["no", "yes"], "missing": false,
        "center": [1.0], "scale": [2.0]},                       # null without scaling
       {"kind": "one-hot", "levels": ["blue", "red"], "missing": true,
        "center": [0.0, 0.0, 0.0], "scale": [0.5, 1.0, 0.5]},   # null without scaling
       {"kind": "code", "levels": ["a", "b", ...], "missing": false}]}

``center``/``scale`` are :class:`_RobustSmoothClip`'s medians and spreads (one per
one-hot output column for a one-hot record, missing level last; one for a binary
record); ``missing`` says that a numeric column gets an indicator, or that a
categorical one has a "missing" level. Files written before ``binary_encoding`` existed
have no such parameter: they encoded two levels as one-hot, and load so.
Levels are text (the encoders see categories as text), sorted, unique.

:func:`preprocessor_from_state` rebuilds the fitted transformer with the public
scikit-learn API only: the same ``ColumnTransformer``
(``TabularPreprocessor._transformers``) is fitted on a one-row table, with the saved
levels as the encoders' ``categories``
(reset to ``"auto"`` afterwards, as they were), then the saved statistics are set on the
``_RobustSmoothClip`` steps. Only our own attributes are written, so the state holds
across scikit-learn versions, and the work is one row whatever the table was.
"""

import math
import reprlib

import numpy as np
from sklearn.compose import ColumnTransformer

from .._model_file import ModelFileError, check_keys, encode_params, make_estimator
from ._preprocessing import TabularPreprocessor, _RobustSmoothClip, with_saved_before

_KINDS = ("numeric", "binary", "one-hot", "code")
_ENCODERS = {"binary": ("binary", "ordinalencoder"), "one-hot": ("onehot", "onehotencoder"),
             "code": ("code", "ordinalencoder")}
_SCALED = {"binary": "binary", "one-hot": "onehot"}  # kind: block scaled like numbers


# ------------------------------------------------------------------------ saving
def preprocessor_state(pre):
    """The JSON record of a fitted preprocessor (see the module docstring)."""
    if type(pre) is not TabularPreprocessor:
        raise TypeError(f"Cannot save the preprocessor {type(pre).__name__}.")
    params, arrays = encode_params(pre)
    if arrays:
        raise TypeError("Cannot save a preprocessor with array-valued parameters.")
    named, kinds = pre.column_transformer_.named_transformers_, pre.feature_kinds_
    columns = [{"kind": str(kind)} for kind in kinds]
    numeric = np.flatnonzero(kinds == "numeric")
    if len(numeric):
        clip = named["num"].steps[0][1]
        for j, c, s in zip(numeric, clip.center_, clip.scale_):
            columns[j].update(center=float(c), scale=float(s), missing=False)
    for name, _, cols in pre.column_transformer_.transformers_:
        if name == "missing":
            for j in cols:
                columns[j]["missing"] = True
    for kind, (block, step) in _ENCODERS.items():
        cols = np.flatnonzero(kinds == kind)
        if len(cols):
            categories = named[block].named_steps[step].categories_
            for j, cats in zip(cols, categories):
                columns[j].update(_levels(cats))
    for kind in _SCALED:
        _scaled_statistics(pre, columns, kind)
    names = getattr(pre, "feature_names_in_", None)
    return {"params": params, "names": None if names is None else [str(n) for n in names],
            "columns": columns}


def _levels(cats):
    values = list(cats)
    missing = bool(values) and isinstance(values[-1], float) and math.isnan(values[-1])
    levels = values[:-1] if missing else values
    if not all(type(v) is str for v in levels):
        raise TypeError("Cannot save categories that are not text.")
    return {"levels": levels, "missing": missing}


def _n_scaled(c):
    """Output columns of a binary or one-hot record."""
    return 1 if c["kind"] == "binary" else len(c["levels"]) + c["missing"]


def _scaled_statistics(pre, columns, kind):
    cols = np.flatnonzero(pre.feature_kinds_ == kind)
    steps = pre.column_transformer_.named_transformers_[_SCALED[kind]].steps \
        if len(cols) else []
    clip = steps[-1][1] if steps and isinstance(steps[-1][1], _RobustSmoothClip) else None
    start = 0
    for j in cols:
        stop = start + _n_scaled(columns[j])
        columns[j]["center"] = None if clip is None else clip.center_[start:stop].tolist()
        columns[j]["scale"] = None if clip is None else clip.scale_[start:stop].tolist()
        start = stop


# ----------------------------------------------------------------------- loading
def preprocessor_from_state(spec):
    """A fitted :class:`TabularPreprocessor` from its record, every field checked."""
    check_keys(spec, {"params", "names", "columns"}, {"params", "names", "columns"},
               "preprocessor")
    pre = make_estimator(with_saved_before(spec["params"]), {}, TabularPreprocessor)
    columns, names = spec["columns"], spec["names"]
    if not isinstance(columns, list) or not columns:
        raise ModelFileError("preprocessor.columns must list the input columns.")
    columns = [_check_column(c, f"preprocessor column {j}", pre)
               for j, c in enumerate(columns)]
    if names is not None and not (isinstance(names, list) and len(names) == len(columns)
                                  and all(isinstance(n, str) for n in names)):
        raise ModelFileError(f"preprocessor.names must be null or {len(columns)} "
                             f"strings, got {reprlib.repr(names)}.")
    kinds = np.array([c["kind"] for c in columns], dtype="<U7")
    X = _one_row(columns, names, kinds)
    blocks = pre._transformers(X, kinds)
    for kind, (block, step) in _ENCODERS.items():
        for name, tf, cols in blocks:
            if name == block:  # the saved levels, not the one row's
                tf.named_steps[step].set_params(categories=[
                    np.array(columns[j]["levels"] + [np.nan] * columns[j]["missing"],
                             dtype=object) for j in cols])
    pre._check_input(X, reset=True)  # n_features_in_, feature_names_in_
    ct = ColumnTransformer(blocks, sparse_threshold=0).fit(X)
    _set_statistics(ct, columns, kinds)
    pre.column_transformer_, pre.feature_kinds_ = ct, kinds
    pre.code_cardinalities_ = np.array([1 + len(c["levels"]) for c in columns
                                        if c["kind"] == "code"], dtype=np.intp)
    n_out = ct.transform(X).shape[1]
    pre.code_columns_ = np.arange(n_out - len(pre.code_cardinalities_), n_out)
    return pre


def _check_column(c, what, pre):
    kind = c.get("kind") if isinstance(c, dict) else None
    if kind not in _KINDS:
        raise ModelFileError(f"{what} has an unknown kind {reprlib.repr(kind)}.")
    keys = {"kind", "center", "scale", "missing"} if kind == "numeric" else {
        "kind", "levels", "missing", *(("center", "scale") if kind in _SCALED else ())}
    check_keys(c, keys, keys, what)
    if type(c["missing"]) is not bool:
        raise ModelFileError(f"{what}: missing must be true or false.")
    if kind == "numeric":
        _check_statistics(c, [c["center"]], [c["scale"]], what)
        return c
    levels = c["levels"]
    if not (isinstance(levels, list) and all(type(v) is str for v in levels)
            and levels == sorted(set(levels)) and (levels or c["missing"])):
        raise ModelFileError(f"{what} needs sorted, unique text levels, got "
                             f"{reprlib.repr(levels)}.")
    if pre._categorical_kind(len(levels)) != kind:
        raise ModelFileError(
            f"{what} has {len(levels)} levels: not a {kind} column with "
            f"max_one_hot_levels={pre.max_one_hot_levels} and "
            f"binary_encoding={pre.binary_encoding!r}.")
    if kind in _SCALED:
        if (c["center"] is None) != (not pre.scale_one_hot):
            raise ModelFileError(f"{what}: center and scale must be given exactly when "
                                 "scale_one_hot is true.")
        if c["center"] is not None:
            _check_statistics(c, c["center"], c["scale"], what, _n_scaled(c))
    return c


def _check_statistics(c, center, scale, what, n=1):
    ok = all(isinstance(v, list) and len(v) == n for v in (center, scale)) and all(
        type(v) in (int, float) and math.isfinite(v) for v in center + scale) and all(
        s >= 0 for s in scale)
    if not ok:
        raise ModelFileError(f"{what} needs {n} finite centers and non-negative scales, "
                             f"got {reprlib.repr(c)}.")


def _one_row(columns, names, kinds):
    """A one-row table with the columns' kinds (and NaN where a column had some)."""
    row = [(np.nan if c["missing"] else 0.0) if c["kind"] == "numeric"
           else (c["levels"][0] if c["levels"] else np.nan) for c in columns]
    categorical = kinds != "numeric"
    if names is None and (categorical.all() or not categorical.any()):
        return np.array([row], dtype=object if categorical.any() else np.float64)
    import pandas as pd

    X = pd.DataFrame({j: pd.Series([v], dtype=object if categorical[j] else np.float64)
                      for j, v in enumerate(row)})
    if names is not None:
        X.columns = names
    return X


def _set_statistics(ct, columns, kinds):
    named = ct.named_transformers_
    for block, step in _ENCODERS.values():  # "auto" again, as in the fitted original
        for name, tf, _ in [*ct.transformers, *ct.transformers_]:
            if name == block:
                tf.named_steps[step].set_params(categories="auto")
    if "num" in named:
        numeric = [c for c in columns if c["kind"] == "numeric"]
        named["num"].steps[0][1]._set_statistics(
            np.array([c["center"] for c in numeric], dtype=np.float64),
            np.array([c["scale"] for c in numeric], dtype=np.float64))
    for kind, block in _SCALED.items():
        scaled = [c for c in columns if c["kind"] == kind]
        if scaled and scaled[0]["center"] is not None:
            named[block].steps[-1][1]._set_statistics(
                np.array([v for c in scaled for v in c["center"]], dtype=np.float64),
                np.array([v for c in scaled for v in c["scale"]], dtype=np.float64))
