"""Class weights turned into per-sample factors, consistent with ``sample_weight``.

``"balanced"`` gives class c the factor ``W / (n_classes * W_c)`` where ``W_c`` is the
class's total *sample weight* (its count when there are no weights), so that a sample
of weight w still counts exactly as w copies of it.
"""

import numpy as np


def _factors_1d(class_weight, y, classes, weight):
    index = np.searchsorted(classes, y)
    if isinstance(class_weight, dict):
        labels = np.asarray(classes).tolist()
        unknown = set(class_weight) - set(labels)
        if unknown:
            raise ValueError(
                f"class_weight names labels that are not classes: "
                f"{sorted(map(str, unknown))}; the classes are {labels}.")
        factors = np.array([float(class_weight.get(c, 1.0)) for c in classes])
    else:  # "balanced"
        totals = np.bincount(index, weights=weight, minlength=len(classes))
        present = totals > 0
        factors = np.ones(len(classes))
        factors[present] = totals.sum() / (present.sum() * totals[present])
    return factors[index]


def class_weight_factors(class_weight, y, classes, sample_weight=None):
    """Per-sample multipliers for ``class_weight``.

    Parameters
    ----------
    class_weight : dict, list of dict or "balanced"
        A list holds one dict per output of a multilabel indicator ``y``.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Labels, or a multilabel indicator matrix.
    classes : ndarray
        The sorted classes (``classes_``).
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    factors : ndarray of shape (n_samples,)
    """
    weight = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    if y.ndim == 1:
        if isinstance(class_weight, list):
            raise ValueError("class_weight as a list (one dict per output) is for "
                             "multilabel targets; pass a dict or 'balanced'.")
        return _factors_1d(class_weight, y, classes, weight)
    n_outputs = y.shape[1]
    per_output = (class_weight if isinstance(class_weight, list)
                  else [class_weight] * n_outputs)
    if len(per_output) != n_outputs:
        raise ValueError(f"class_weight must hold one dict per output ({n_outputs}), "
                         f"got {len(per_output)}.")
    one_dict_for_all = not isinstance(class_weight, list)
    if one_dict_for_all and any(isinstance(cw, dict) for cw in per_output):
        raise ValueError("For multilabel targets pass class_weight='balanced' or a list of "
                         "dicts (one per output, with keys 0 and 1).")
    factors = np.ones(y.shape[0])
    for j, cw in enumerate(per_output):
        factors *= _factors_1d(cw, y[:, j].astype(int), np.array([0, 1]), weight)
    return factors
