"""Input checks whose errors say what is wrong and what to do.

scikit-learn's own messages say what went wrong; the hints here add what to do about it,
and the label checks catch what NumPy would otherwise report as a bare ``TypeError``.
"""

from contextlib import contextmanager
from numbers import Real

import numpy as np
from sklearn.utils.multiclass import type_of_target

ENCODE = ("Encode text or categorical features as numbers first, e.g. with "
          "sklearn.preprocessing.OneHotEncoder or OrdinalEncoder.")
# What to do about scikit-learn's input errors, keyed by a piece of their message; the
# message itself is kept, so what went wrong is still said in scikit-learn's words.
WEIGHT_HINTS = (
    ("sample_weight.shape", "Pass one weight per sample (row of X)."),
    ("ample weights must be 1D", "Pass one weight per sample (row of X)."),
    ("Negative values", "Sample weights must be >= 0."),
    ("Input sample_weight contains", "Sample weights must be finite numbers >= 0."),
    ("could not convert", "Sample weights must be finite numbers >= 0."),
)
INPUT_HINTS = (
    ("Input y contains", "Drop the samples whose label is missing or infinite."),
    ("contains infinity", "Replace or clip the infinite values before fitting."),
    ("inconsistent numbers of samples", "X, y and sample_weight need one row per sample."),
    ("with dim ", "Flatten X to 2-D first, e.g. X.reshape(len(X), -1)."),
    ("Complex data not supported", "Pass real features, e.g. the real and imaginary "
     "parts as separate columns."),
    ("could not convert string to float", ENCODE),
    ("bytes/strings", ENCODE),
    ("argument must be a string or a", ENCODE),
    ("inhomogeneous", "X must be 2-D with the same number of features in every row."),
    ("features, but", "Pass the same features, in the same order, as during fit."),
)


@contextmanager
def explained_input_errors(hints=INPUT_HINTS):
    """Append what to do to scikit-learn's ValueError/TypeError about the input."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        message = str(exc).rstrip()
        hint = next((h for key, h in hints if key in message), None)
        if hint is None or type(exc) not in (TypeError, ValueError):
            raise
        raise type(exc)(f"{message} {hint}") from exc


def check_label_values(y):
    """Reject object labels that cannot be sorted (None, or strings mixed with numbers).

    Checked up front because NumPy would fail on them with a bare TypeError about '<'.
    """
    if y.dtype == object:
        values = y.ravel()
        if any(v is None for v in values):
            raise ValueError("y contains None: every sample needs a label. Drop the "
                             "unlabelled samples first.")
        if len({isinstance(v, str) for v in values}) > 1:
            raise ValueError("y mixes string and numeric labels; use one type for all "
                             "labels, e.g. y.astype(str).")


def check_label_type(y):
    """Explain why ``y`` is not a classification target, if it is not one.

    Called only once label encoding has failed: ``type_of_target`` is too slow to run
    on every ``partial_fit`` call, and scikit-learn's own message prints all of ``y``.
    """
    y_type = type_of_target(y, input_name="y")
    if y_type not in ("binary", "multiclass", "multilabel-indicator"):
        if y_type == "multiclass-multioutput":
            raise ValueError("Multiclass-multioutput targets (2-D y with more than two "
                             "values in a column) are not supported: wrap the estimator "
                             "in sklearn.multioutput.MultiOutputClassifier, or pass a "
                             "0/1 multilabel indicator matrix.")
        raise ValueError(f"Unknown label type: {y_type}. Maybe you are trying to fit a "
                         "classifier, which expects discrete classes, on a regression "
                         "target with continuous values.")


def check_class_weight_values(class_weight):
    """Each weight in a class_weight dict must be a finite number >= 0."""
    dicts = class_weight if isinstance(class_weight, list) else [class_weight]
    for cw in dicts:
        if not isinstance(cw, dict):
            if cw == "balanced" and not isinstance(class_weight, list):
                return
            raise ValueError(f"class_weight must be a dict, a list of dicts or "
                             f"'balanced', got {class_weight!r}.")
        for label, w in cw.items():
            if (not isinstance(w, Real) or isinstance(w, bool)
                    or not np.isfinite(w) or w < 0):
                raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0, "
                                 f"got {w!r}.")


@contextmanager
def restored_on_error(estimator):
    """Leave ``estimator`` exactly as it was when the block raises.

    A refit that fails after ``validate_data`` set ``n_features_in_``, or after the
    labels set ``classes_``, must not pair them with the previous fit's weights; a first
    ``partial_fit`` that fails must leave no half-made model, so the next call still
    counts as the first. The attributes are restored wholesale (a shallow copy: the
    network of a previous fit is replaced by a refit, never modified, before training).
    """
    saved = dict(estimator.__dict__)
    try:
        yield
    except Exception:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise
