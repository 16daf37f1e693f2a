"""Safe save and load: arrays plus JSON in one ``.npz`` file, nothing ever unpickled.

A model file is an *uncompressed* NumPy ``.npz`` archive (a zip of ``.npy`` files):

==================== ========= ==================================================
member               dtype     content
==================== ========= ==================================================
``metadata``         uint8     UTF-8 bytes of a JSON object (below)
``params``           float     the network's flat parameter buffer: every weight
                               matrix (row-major), then every bias vector, then
                               gamma and beta of each batch-normalized layer
``state``            float     running mean and running variance of each
                               batch-normalized layer (empty without batch norm)
``random_state_key`` uint32    (624,) Mersenne-Twister key, only when the
                               ``random_state`` parameter is a ``RandomState``
==================== ========= ==================================================

The JSON object has exactly the keys ``format`` (``"sknumpy_mlp"``),
``format_version`` (``1``), ``estimator``, ``versions`` (package, scikit-learn and
NumPy versions, informative only), ``params`` (``get_params()``; tuples, arrays and
dicts with non-string keys are tagged as ``{"__tuple__": [...]}``,
``{"__ndarray__": [...], "dtype": ...}`` and ``{"__dict__": [[key, value], ...]}``),
``network`` (layer units, activation, batch norm, dropout rates, dtype), ``target``
(target type, classes with their dtype), ``fitted`` (the other fitted attributes) and
``history`` (the fields of the training history that no fitted attribute mirrors,
e.g. ``steps``, the counter the dropout masks are keyed by).
Non-finite floats are written as ``Infinity``/``NaN``, as Python's :mod:`json` does.
The tabular estimators' files use the same members and header with their own keys
(:mod:`sknumpy_mlp.tabular._persistence`); :func:`save` and :func:`load` dispatch on
the estimator.

:func:`load` reads the file with ``np.load(..., allow_pickle=False)``, checks every
member's header (dtype, shape, size; object arrays are refused) before reading it
(:mod:`sknumpy_mlp._model_file`, the container both share),
then validates the JSON (format, version, keys, types, shapes, classes, the
hyperparameters through the estimator's own validation) and raises a ``ValueError``
for anything it does not expect. Only uncompressed members are accepted, so the
memory a file can claim is bounded by its size.

The optimizer state (e.g. Adam's moments) and the learning-rate schedule's clock are
not saved: a loaded model predicts exactly like the original, and ``partial_fit`` or
a ``warm_start`` fit continues from its weights with a fresh optimizer.
"""

import dataclasses
import reprlib

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ._activations import ACTIVATIONS
from ._estimator import MLPScratchClassifier
from ._layers import LAYERS
from ._losses import CLASSIFICATION_HEADS, get_loss
from ._model_file import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFileError,
    check_format,
    check_keys,
    check_kind,
    check_versions,
    decode_classes,
    encode_classes,
    encode_params,
    header,
    is_float,
    is_int,
    load_model,
    make_estimator,
    network_from_buffers,
    to_json,
    write_model,
)
from ._network import Network, mlp_layers
from ._optimizers import SOLVERS
from ._regression_losses import REGRESSION_HEADS
from ._regressor import MLPScratchRegressor
from ._schedules import LearningRate
from ._training import History
from .tabular import _persistence as _tabular

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SKOPS_TRUSTED_TYPES", "ModelFileError",
           "load", "save"]

_TOP_KEYS = {"format", "format_version", "estimator", "versions", "params", "network",
             "target", "fitted", "history"}
_FITTED = {  # attribute -> kind; the first six are always there
    "n_features_in_": "count", "n_layers_": "count", "n_outputs_": "count",
    "out_activation_": "str", "n_iter_": "count", "t_": "count",
    "feature_names_in_": "str_list", "loss_": "float", "loss_curve_": "float_list",
    "best_loss_": "opt_float", "validation_scores_": "opt_float_list",
    "validation_loss_curve_": "opt_float_list", "best_validation_score_": "opt_float",
    "_no_improvement_count": "count",
}
_REQUIRED_FITTED = list(_FITTED)[:6]
# History fields that a stochastic fit mirrors into the fitted attributes above ...
_HISTORY_MIRRORS = {
    "loss_curve": "loss_curve_", "validation_scores": "validation_scores_",
    "validation_losses": "validation_loss_curve_", "best_loss": "best_loss_",
    "best_validation_score": "best_validation_score_",
    "no_improvement_count": "_no_improvement_count", "n_iter": "n_iter_", "t": "t_",
}
# ... and the others, saved under "history" with a kind from their annotation.
_ANNOTATION_KINDS = {"bool": "bool", "int": "count", "float": "opt_float",
                     "list": "opt_float_list"}
#: The estimators a file may hold, by the name it records.
_ESTIMATORS = {cls.__name__: cls for cls in (MLPScratchClassifier, MLPScratchRegressor)}
#: A regressor's output activation -> its head (the fitted state, not ``loss``, which
#: set_params may have changed since the fit).
_REGRESSION_OUTPUTS = {cls.out_activation: cls for cls in REGRESSION_HEADS.values()}

#: What ``skops.io.get_untrusted_types`` reports for a fitted model (a subset,
#: depending on the solver and the problem), from the tables of heads, optimizers and
#: layers (the tabular layers included: importing ``_tabular`` registered them), and the
#: tabular estimators' own types (:data:`.tabular._persistence.SKOPS_TRUSTED`).
#: Reviewed: plain data holders whose state is arrays, numbers and strings, and pure
#: functions; none runs code on load beyond rebuilding views.
SKOPS_TRUSTED_TYPES = tuple(f"{obj.__module__}.{obj.__qualname__}" for obj in (
    *_ESTIMATORS.values(), Network, History, LearningRate,
    *CLASSIFICATION_HEADS.values(), *REGRESSION_HEADS.values(),
    *(solver.optimizer for solver in SOLVERS.values() if solver.stochastic),
    *LAYERS.values(), *_tabular.SKOPS_TRUSTED))


# ------------------------------------------------------------------------ saving
def save(estimator, path):
    """Save a fitted :class:`MLPScratchClassifier` or regressor to a safe model file.

    Parameters
    ----------
    estimator : MLPScratchClassifier or MLPScratchRegressor
        A fitted estimator (subclasses are refused: they would load as the base class).
    path : str, path-like or writable binary file object
        Destination, written as is (no ``.npz`` suffix is appended).

    See Also
    --------
    load : Read the file back.
    sknumpy_mlp.to_onnx : Export for inference outside Python.

    Notes
    -----
    The file holds arrays and JSON only (format described in
    :mod:`sknumpy_mlp._persistence`), so loading it never executes code, unlike
    pickle, joblib or an untrusted skops file. The optimizer state is not saved.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_iris
    >>> from sknumpy_mlp import MLPScratchClassifier, load, save
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPScratchClassifier(max_iter=300, random_state=0).fit(X, y)
    >>> buffer = io.BytesIO()  # or a path such as "model.npz"
    >>> save(clf, buffer)
    >>> _ = buffer.seek(0)
    >>> bool((load(buffer).predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    tabular = type(estimator) in _tabular.ESTIMATORS.values()
    if type(estimator) not in _ESTIMATORS.values() and not tabular:
        raise TypeError(f"save expects an MLPScratchClassifier, an MLPScratchRegressor "
                        f"or a tabular estimator, got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    encode = _tabular.encode_model if tabular else _encode_model
    write_model(path, *encode(estimator))


def _encode_model(est):
    net = est._network
    net.set_weights(est.coefs_, est.intercepts_)  # as pickling does
    params, arrays = encode_params(est)
    arrays.update(params=net.params, state=net.state)
    fitted = {name: to_json(kind, getattr(est, name)) for name, kind in _FITTED.items()
              if hasattr(est, name)}
    unknown = {n for n in vars(est) if n.endswith("_") and not n.startswith("_")}
    unknown -= {*_FITTED, "classes_", "coefs_", "intercepts_"}
    if unknown:  # a fitted attribute this format would silently drop
        raise TypeError(f"Cannot save the fitted attributes {sorted(unknown)}.")
    history = {name: to_json(kind, getattr(est._history, name))
               for name, kind in _history_kinds().items()}
    meta = {
        **header(est),
        "params": params,
        "network": {"layer_units": list(net.layer_units),
                    "activation": net.activation_name, "batch_norm": net.batch_norm,
                    "dropout": list(net.dropout), "dtype": net.dtype.name},
        "target": _encode_target(est),
        "fitted": fitted,
        "history": history,
    }
    return meta, arrays


def _encode_target(est):
    """The classifier's label encoding; a regressor's target needs none (null)."""
    if not hasattr(est, "classes_"):
        return None
    return {"type": est._label_binarizer.y_type_,
            "sparse_input": bool(est._label_binarizer.sparse_input_),
            "classes": encode_classes(est.classes_)}


# ----------------------------------------------------------------------- loading
def load(path):
    r"""Load a model saved by :func:`save`, validating the whole file first.

    Parameters
    ----------
    path : str, path-like or readable binary file object
        The model file.

    Returns
    -------
    estimator : MLPScratchClassifier, MLPScratchRegressor or a tabular estimator
        A fitted estimator whose ``predict_proba`` (or ``predict``) is bit-for-bit the
        original's. It
        supports ``partial_fit`` and ``warm_start`` fits, with a fresh optimizer
        (Adam moments, momentum and the schedule's clock are not saved).

    Raises
    ------
    ValueError
        (:class:`ModelFileError`) if the file is not a valid model file: another
        format, a pickle, truncated, damaged, tampered with, or written by a newer
        format version. Nothing in the file is executed.

    See Also
    --------
    save : Write a model file.

    Examples
    --------
    >>> import io
    >>> from sknumpy_mlp import load
    >>> load(io.BytesIO(b"\x80\x04 a pickle"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sknumpy_mlp._model_file.ModelFileError: the file ... looks like a pickle...
    """
    return load_model(path, _build)


# ---------------------------------------------------------- validate and rebuild
def _build(meta, arrays):
    check_format(meta, {*_ESTIMATORS, *_tabular.ESTIMATORS})
    if meta["estimator"] in _tabular.ESTIMATORS:
        return _tabular.build(meta, arrays)
    check_keys(meta, _TOP_KEYS, _TOP_KEYS, "the metadata")
    check_versions(meta["versions"])
    net_meta = _check_network(meta["network"])
    units = net_meta["layer_units"]
    cls = _ESTIMATORS[meta["estimator"]]
    if cls is MLPScratchRegressor:
        if meta["target"] is not None:
            raise ModelFileError("a regressor's target must be null.")
        lb = None
        fitted = _check_fitted(meta["fitted"], units, set(_REGRESSION_OUTPUTS))
        head = _REGRESSION_OUTPUTS[fitted["out_activation_"]]()
    else:
        lb, multilabel = _check_target(meta["target"], units[-1])
        head = get_loss(units[-1], multilabel)
        fitted = _check_fitted(meta["fitted"], units, {head.out_activation})
    est = make_estimator(meta["params"], arrays, cls)
    net = _make_network(net_meta, head, arrays)
    if arrays:
        raise ModelFileError(f"unused members {sorted(arrays)}.")
    est._network = net
    est.coefs_, est.intercepts_ = net.coefs, net.intercepts
    if lb is not None:
        est._label_binarizer, est.classes_ = lb, lb.classes_
    for name, value in fitted.items():
        setattr(est, name, value)
    est._history = _history(fitted, meta["history"])
    return est


def _make_network(spec, head, arrays):
    """A fresh Network holding the saved buffers, their sizes checked first."""
    units, dtype = spec["layer_units"], np.dtype(spec["dtype"])
    layers = mlp_layers(units, spec["activation"], batch_norm=spec["batch_norm"],
                        dropout=spec["dropout"])
    # The network's own settings, not the hyperparameters: set_params after a fit may
    # have changed those without touching the fitted network.
    return network_from_buffers(layers, head, dtype, arrays.pop("params"),
                                arrays.pop("state"), f"layers {units}")


def _check_network(spec):
    keys = {"layer_units", "activation", "batch_norm", "dropout", "dtype"}
    check_keys(spec, keys, keys, "network")
    units, rates = spec["layer_units"], spec["dropout"]
    if not (isinstance(units, list) and len(units) >= 2
            and all(is_int(u, 1) for u in units)):
        raise ModelFileError(f"layer_units must be >= 2 positive ints, got "
                             f"{reprlib.repr(units)}.")
    if not (isinstance(rates, list) and len(rates) == len(units) - 2
            and all(is_float(r) and 0 <= r < 1 for r in rates)):
        raise ModelFileError(f"dropout must hold one rate in [0, 1) per hidden layer, "
                             f"got {reprlib.repr(rates)}.")
    if not isinstance(spec["activation"], str) or spec["activation"] not in ACTIVATIONS:
        raise ModelFileError(f"unknown activation {reprlib.repr(spec['activation'])}.")
    if type(spec["batch_norm"]) is not bool:
        raise ModelFileError("batch_norm must be true or false.")
    if spec["dtype"] not in ("float32", "float64"):
        raise ModelFileError(f"dtype must be float32 or float64, got "
                             f"{reprlib.repr(spec['dtype'])}.")
    return spec


def _check_target(spec, n_outputs):
    """Rebuild the fitted LabelBinarizer; the classes must fit the output layer."""
    check_keys(spec, {"type", "sparse_input", "classes"},
                {"type", "sparse_input", "classes"}, "target")
    classes, kind = decode_classes(spec["classes"]), spec["type"]
    expected = {"binary": (2, 1), "multiclass": (n_outputs, n_outputs),
                "multilabel-indicator": (n_outputs, n_outputs)}
    if not isinstance(kind, str) or kind not in expected:
        raise ModelFileError(f"unknown target type {reprlib.repr(kind)}.")
    if type(spec["sparse_input"]) is not bool:
        raise ModelFileError("sparse_input must be true or false.")
    n_classes = 3 if kind == "multiclass" else 2
    if (len(classes), n_outputs) != expected[kind] or len(classes) < n_classes:
        raise ModelFileError(f"{len(classes)} classes do not fit a {kind} target with "
                             f"{n_outputs} output units.")
    multilabel = kind == "multilabel-indicator"
    if multilabel and classes.tolist() != list(range(n_outputs)):
        raise ModelFileError("multilabel classes must be 0, 1, ..., n_outputs - 1.")
    lb = LabelBinarizer()
    lb.classes_, lb.y_type_, lb.sparse_input_ = classes, kind, spec["sparse_input"]
    return lb, multilabel


def _check_fitted(spec, units, outputs):
    """Check the fitted attributes; ``outputs`` are the output activations allowed."""
    check_keys(spec, _REQUIRED_FITTED, _FITTED, "fitted")
    fitted = {name: check_kind(_FITTED[name], value, name)
              for name, value in spec.items()}
    n_outputs = units[-1]
    if ((fitted["n_features_in_"], fitted["n_layers_"], fitted["n_outputs_"])
            != (units[0], len(units), n_outputs)
            or fitted["out_activation_"] not in outputs):
        raise ModelFileError(f"n_features_in_, n_layers_, n_outputs_ and "
                             f"out_activation_ do not match the layers {units}.")
    names = fitted.get("feature_names_in_")
    if names is not None:
        if len(names) != units[0]:
            raise ModelFileError(f"{len(names)} feature names for {units[0]} features.")
        fitted["feature_names_in_"] = np.asarray(names, dtype=object)
    return fitted


def _history_kinds():
    """Kind of each History field that no fitted attribute mirrors."""
    kinds = {}
    for field in dataclasses.fields(History):
        annotation = getattr(field.type, "__name__", field.type)
        if field.name not in _HISTORY_MIRRORS:
            kinds[field.name] = _ANNOTATION_KINDS.get(annotation)
            if kinds[field.name] is None:  # a training-state field of a new type
                raise TypeError(f"Cannot save History.{field.name} ({annotation}).")
    return kinds


def _history(fitted, spec):
    """The training history, sharing the lists of a stochastic fit's attributes.

    Fields missing from the file (added to History after it was written) keep their
    defaults; unknown fields are refused.
    """
    kinds = _history_kinds()
    check_keys(spec, {"early_stopping"}, kinds, "history")
    saved = {name: check_kind(kinds[name], v, name) for name, v in spec.items()}
    history = History(early_stopping=saved["early_stopping"])
    for name, value in saved.items():
        setattr(history, name, value)
    if "best_loss_" in fitted:  # trained by a stochastic solver
        if saved["early_stopping"] != (fitted.get("validation_scores_") is not None):
            raise ModelFileError("history.early_stopping contradicts "
                                 "validation_scores_.")
        fitted.setdefault("loss_curve_", [])
        for field, name in _HISTORY_MIRRORS.items():
            setattr(history, field, fitted.get(name, getattr(history, field)))
    return history

