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

:func:`load` reads the file with ``np.load(..., allow_pickle=False)``, checks every
member's header (dtype, shape, size; object arrays are refused) before reading it,
then validates the JSON (format, version, keys, types, shapes, classes, the
hyperparameters through the estimator's own validation) and raises a ``ValueError``
for anything it does not expect. Only uncompressed members are accepted, so the
memory a file can claim is bounded by its size.

The optimizer state (e.g. Adam's moments) and the learning-rate schedule's clock are
not saved: a loaded model predicts exactly like the original, and ``partial_fit`` or
a ``warm_start`` fit continues from its weights with a fresh optimizer.
"""

import dataclasses
import io
import json
import os
import re
import reprlib
import struct
import zipfile
import zlib
from numbers import Integral, Real

import numpy as np
import sklearn
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ._activations import ACTIVATIONS
from ._estimator import MLPScratchClassifier
from ._layers import LAYERS
from ._layout import Layout
from ._losses import CLASSIFICATION_HEADS, get_loss
from ._network import Network, mlp_layers
from ._optimizers import SOLVERS
from ._regression_losses import REGRESSION_HEADS
from ._regressor import MLPScratchRegressor
from ._schedules import LearningRate
from ._training import History

FORMAT_NAME = "sknumpy_mlp"
FORMAT_VERSION = 1
_TOP_KEYS = {"format", "format_version", "estimator", "versions", "params", "network",
             "target", "fitted", "history"}
# member -> (dtype kinds, itemsizes) it may have
_MEMBERS = {"metadata": ("u", (1,)), "params": ("f", (4, 8)), "state": ("f", (4, 8)),
            "random_state_key": ("u", (4,))}
_MT_KEY_LEN = 624
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
_CLASS_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[48]|U[0-9]{1,6}|O)")
_ARRAY_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[48])")
_CLASS_TYPES = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float), "U": (str,),
                "O": (str, int, float, bool)}
# Anything the zip/npy/json readers raise on a damaged file (the read stage only).
_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, IndexError,
                OverflowError, NotImplementedError, RuntimeError, SyntaxError,
                zipfile.BadZipFile, zlib.error, struct.error)

#: The estimators a file may hold, by the name it records.
_ESTIMATORS = {cls.__name__: cls for cls in (MLPScratchClassifier, MLPScratchRegressor)}
#: A regressor's output activation -> its head (the fitted state, not ``loss``, which
#: set_params may have changed since the fit).
_REGRESSION_OUTPUTS = {cls.out_activation: cls for cls in REGRESSION_HEADS.values()}

#: What ``skops.io.get_untrusted_types`` reports for a fitted model (a subset,
#: depending on the solver and the problem), from the tables of heads, optimizers and
#: layers. Reviewed: plain data holders whose state is arrays, numbers and strings;
#: none runs code on load beyond rebuilding views.
SKOPS_TRUSTED_TYPES = tuple(f"{cls.__module__}.{cls.__qualname__}" for cls in (
    *_ESTIMATORS.values(), Network, History, LearningRate,
    *CLASSIFICATION_HEADS.values(), *REGRESSION_HEADS.values(),
    *(solver.optimizer for solver in SOLVERS.values() if solver.stochastic),
    *LAYERS.values()))


class ModelFileError(ValueError):
    """Raised by :func:`load` for a file that is not a valid model file."""


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
    if type(estimator) not in _ESTIMATORS.values():
        raise TypeError(f"save expects an MLPScratchClassifier or an MLPScratchRegressor, "
                        f"got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    meta, arrays = _encode_model(estimator)
    text = json.dumps(meta, indent=1, allow_nan=True)
    arrays["metadata"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if isinstance(path, str | os.PathLike):
        with open(path, "wb") as f:  # np.savez would append ".npz" to a path
            np.savez(f, **arrays)
    else:
        np.savez(path, **arrays)


def _encode_model(est):
    from . import __version__  # the package imports this module first

    net = est._network
    net.set_weights(est.coefs_, est.intercepts_)  # as pickling does
    params, arrays = _encode_params(est)
    arrays.update(params=net.params, state=net.state)
    fitted = {name: _to_json(kind, getattr(est, name)) for name, kind in _FITTED.items()
              if hasattr(est, name)}
    unknown = {n for n in vars(est) if n.endswith("_") and not n.startswith("_")}
    unknown -= {*_FITTED, "classes_", "coefs_", "intercepts_"}
    if unknown:  # a fitted attribute this format would silently drop
        raise TypeError(f"Cannot save the fitted attributes {sorted(unknown)}.")
    history = {name: _to_json(kind, getattr(est._history, name))
               for name, kind in _history_kinds().items()}
    meta = {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "estimator": type(est).__name__,
        "versions": {"sknumpy_mlp": __version__, "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__},
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
            "classes": _encode_classes(est.classes_)}


def _encode_params(est):
    params, arrays = {}, {}
    for name, value in est.get_params(deep=False).items():
        if isinstance(value, np.random.RandomState):
            state = value.get_state(legacy=False)
            if state["bit_generator"] != "MT19937":
                raise TypeError(f"Cannot save random_state={value!r}: only the default "
                                "MT19937 RandomState is supported; use an int.")
            arrays["random_state_key"] = state["state"]["key"]
            params[name] = {"__random_state__": {
                "pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]),
                "cached_gaussian": float(state["gauss"])}}
        else:
            params[name] = _encode(value, name)
    return params, arrays


def _encode(value, name):
    """JSON form of a hyperparameter; tuples, arrays and non-JSON dicts are tagged."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, list | tuple):
        items = [_encode(v, name) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biuf":
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, name), _encode(v, name)]
                             for k, v in value.items()]}
    raise TypeError(f"Cannot save the hyperparameter {name}={value!r}: only None, "
                    "bool, numbers, strings, lists, tuples, 1-D numeric arrays and "
                    "dicts of those are supported.")


def _encode_classes(classes):
    if classes.ndim != 1 or classes.dtype.kind not in _CLASS_TYPES:
        raise TypeError(f"Cannot save classes of dtype {classes.dtype}.")
    values = [v.item() if isinstance(v, np.generic) else v for v in classes.tolist()]
    if not all(isinstance(v, _CLASS_TYPES[classes.dtype.kind]) for v in values):
        raise TypeError("Cannot save classes that are not str, int, float or bool.")
    return {"dtype": classes.dtype.str, "values": values}


def _to_json(kind, value):
    if value is None or kind == "str":
        return value if value is None else str(value)
    if kind == "bool":
        return bool(value)
    if kind == "count":
        return int(value)
    if kind in ("float", "opt_float"):
        return float(value)
    if kind == "str_list":
        return [str(v) for v in value]
    return [float(v) for v in value]


# ----------------------------------------------------------------------- loading
def load(path):
    r"""Load a model saved by :func:`save`, validating the whole file first.

    Parameters
    ----------
    path : str, path-like or readable binary file object
        The model file.

    Returns
    -------
    estimator : MLPScratchClassifier or MLPScratchRegressor
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
    sknumpy_mlp._persistence.ModelFileError: the file ... looks like a pickle...
    """
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as f:
            return _load(f, repr(os.fspath(path)))
    if not path.seekable():
        path = io.BytesIO(path.read())
    return _load(path, "the file")


def _load(file, where):
    try:
        arrays, meta = _read_archive(file)
        return _build(meta, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{where} is not a valid sknumpy_mlp model file: "
                             f"{exc}") from exc.__cause__


def _read_archive(file):
    """Return ``(arrays, metadata)``; check each member's header before reading it."""
    try:
        start = file.tell()
        magic = file.read(4)
        size = file.seek(0, io.SEEK_END) - start
        file.seek(start)
        if magic != b"PK\x03\x04":
            raise ModelFileError(_what_is(magic))
        with np.load(file, allow_pickle=False) as npz:
            names = [_check_member(npz.zip, info, size) for info in npz.zip.infolist()]
            missing = {"metadata", "params", "state"} - set(names)
            if missing or len(set(names)) != len(names):
                raise ModelFileError(f"members {sorted(missing)} are missing or "
                                     "some are repeated.")
            arrays = {name: npz[name] for name in names}
        text = arrays.pop("metadata").tobytes().decode("utf-8")
        meta = json.loads(text, object_pairs_hook=_unique_keys)
    except ModelFileError:
        raise
    except _READ_ERRORS as exc:
        raise ModelFileError(f"it is damaged or truncated ({type(exc).__name__}: "
                             f"{exc})") from exc
    return arrays, meta


def _what_is(magic):
    if not magic:
        return "it is empty."
    if magic[:1] == b"\x80":
        return ("it looks like a pickle, which load refuses (unpickling can run "
                "arbitrary code).")
    if magic == b"\x93NUM":
        return "it is a single .npy array, not a model archive."
    return "it is not a zip (.npz) archive."


def _check_member(zf, info, size):
    """Validate one member's zip entry and ``.npy`` header; return its array name."""
    name = info.filename.removesuffix(".npy")
    if not info.filename.endswith(".npy") or name not in _MEMBERS:
        raise ModelFileError(f"unexpected member {info.filename!r}.")
    if (info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size
            or info.file_size > size):
        raise ModelFileError(f"member {name!r} is compressed or its size is wrong; "
                             "model files store their members uncompressed.")
    with zf.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise ModelFileError(f"member {name!r} has .npy format version {version}.")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(fp)
        header_size = fp.tell()
    if dtype.hasobject:
        raise ModelFileError(f"member {name!r} is an object array; object arrays are "
                             "refused because loading them would unpickle.")
    kinds, itemsizes = _MEMBERS[name]
    if dtype.kind not in kinds or dtype.itemsize not in itemsizes or len(shape) != 1:
        raise ModelFileError(f"member {name!r} has dtype {dtype} and shape {shape}.")
    if header_size + shape[0] * dtype.itemsize != info.file_size:
        raise ModelFileError(f"member {name!r} does not hold the {shape[0]} values its "
                             "header declares.")
    return name


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ModelFileError(f"the metadata repeats keys in {reprlib.repr(keys)}.")
    return dict(pairs)


# ---------------------------------------------------------- validate and rebuild
def _build(meta, arrays):
    _check_header(meta)
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
    est = _make_estimator(meta["params"], arrays, cls)
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
    layout = Layout(layers)  # sizes only: nothing of that size is allocated yet
    values = {name: arrays.pop(name) for name in ("params", "state")}
    for name, size in (("params", layout.n_params), ("state", layout.n_state)):
        array = values[name]  # checked before allocating anything of that size
        if array.shape != (size,) or array.dtype.itemsize != dtype.itemsize:
            raise ModelFileError(f"{name} has {array.size} {array.dtype.name} values; "
                                 f"layers {units} ({dtype.name}) need {size}.")
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{name} holds non-finite values.")
    # The network's own settings, not the hyperparameters: set_params after a fit may
    # have changed those without touching the fitted network.
    net = Network(layers, head, dtype)
    net.params[...] = values["params"]  # same dtype up to byte order: an exact copy
    net.state[...] = values["state"]
    if any(np.any(bn.running_var < 0) for bn in net.norms):
        raise ModelFileError("a batch-norm running variance is negative.")
    return net


def _check_header(meta):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError("its metadata does not name the sknumpy_mlp format.")
    version = meta.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        raise ModelFileError(f"it has format version {version}, newer than this "
                             f"version reads ({FORMAT_VERSION}); upgrade sknumpy_mlp.")
    if version != FORMAT_VERSION or type(version) is not int:
        raise ModelFileError(f"unknown format version {version!r}.")
    _check_keys(meta, _TOP_KEYS, _TOP_KEYS, "the metadata")
    if not isinstance(meta["estimator"], str) or meta["estimator"] not in _ESTIMATORS:
        raise ModelFileError(f"unknown estimator {meta['estimator']!r}.")
    versions = meta["versions"]
    if not isinstance(versions, dict) or not all(
            isinstance(v, str) for v in versions.values()):
        raise ModelFileError("versions must map names to strings.")


def _check_keys(obj, required, allowed, what):
    if not isinstance(obj, dict):
        raise ModelFileError(f"{what} is not a JSON object.")
    missing, unknown = set(required) - set(obj), set(obj) - set(allowed)
    if missing or unknown:
        raise ModelFileError(f"{what} has missing keys {sorted(missing)} or unknown "
                             f"keys {sorted(unknown)}.")


def _is_int(v, low=0):
    return type(v) is int and v >= low


def _is_float(v):
    return type(v) in (int, float)


def _check_network(spec):
    keys = {"layer_units", "activation", "batch_norm", "dropout", "dtype"}
    _check_keys(spec, keys, keys, "network")
    units, rates = spec["layer_units"], spec["dropout"]
    if not (isinstance(units, list) and len(units) >= 2
            and all(_is_int(u, 1) for u in units)):
        raise ModelFileError(f"layer_units must be >= 2 positive ints, got "
                             f"{reprlib.repr(units)}.")
    if not (isinstance(rates, list) and len(rates) == len(units) - 2
            and all(_is_float(r) and 0 <= r < 1 for r in rates)):
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
    _check_keys(spec, {"type", "sparse_input", "classes"},
                {"type", "sparse_input", "classes"}, "target")
    classes, kind = _decode_classes(spec["classes"]), spec["type"]
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


def _decode_classes(spec):
    _check_keys(spec, {"dtype", "values"}, {"dtype", "values"}, "classes")
    dtype, values = spec["dtype"], spec["values"]
    if not isinstance(dtype, str) or not _CLASS_DTYPE.fullmatch(dtype):
        raise ModelFileError(f"unsupported classes dtype {reprlib.repr(dtype)}.")
    dtype = np.dtype(dtype)
    types = _CLASS_TYPES[dtype.kind]
    if not isinstance(values, list) or not all(
            type(v) in types and type(v) is type(values[0]) for v in values):
        raise ModelFileError(f"classes {reprlib.repr(values)} do not match "
                             f"dtype {dtype}.")
    if dtype.kind == "O":
        classes = np.empty(len(values), dtype=object)
        classes[:] = values
    else:
        try:
            classes = np.array(values, dtype=dtype)
        except (OverflowError, ValueError):
            classes = None
        if classes is None or classes.tolist() != values:
            raise ModelFileError(f"classes {reprlib.repr(values)} do not fit {dtype}.")
    if not all(a < b for a, b in zip(values, values[1:])):
        raise ModelFileError("classes must be unique and sorted.")
    return classes


def _check_fitted(spec, units, outputs):
    """Check the fitted attributes; ``outputs`` are the output activations allowed."""
    _check_keys(spec, _REQUIRED_FITTED, _FITTED, "fitted")
    fitted = {name: _check_kind(_FITTED[name], value, name)
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


def _check_kind(kind, value, name):
    if kind.startswith("opt_"):
        if value is None:
            return None
        kind = kind[4:]
    ok = {"count": _is_int, "float": _is_float, "str": lambda v: isinstance(v, str),
          "bool": lambda v: isinstance(v, bool)}
    item = ok.get(kind.removesuffix("_list"))
    if kind.endswith("_list"):
        valid = isinstance(value, list) and all(item(v) for v in value)
    else:
        valid = item(value)
    if not valid:
        raise ModelFileError(f"{name} has an invalid value {reprlib.repr(value)}.")
    if kind == "float":
        return float(value)
    return [float(v) for v in value] if kind == "float_list" else value


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
    _check_keys(spec, {"early_stopping"}, kinds, "history")
    saved = {name: _check_kind(kinds[name], v, name) for name, v in spec.items()}
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


def _make_estimator(spec, arrays, cls):
    """Decode ``get_params()`` and run the estimator's own parameter validation."""
    names = set(cls().get_params(deep=False))
    _check_keys(spec, names, names, "params")
    params = {name: _decode(value, name, arrays, 0) for name, value in spec.items()}
    est = cls(**params)
    try:
        est._validate_params()
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"invalid hyperparameters: {exc}") from None
    return est


def _decode(value, name, arrays, depth):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and depth < 4:
        return [_decode(v, name, arrays, depth + 1) for v in value]
    tags = set(value) if isinstance(value, dict) else None
    if tags == {"__tuple__"} and isinstance(value["__tuple__"], list) and depth < 4:
        return tuple(_decode(v, name, arrays, depth + 1) for v in value["__tuple__"])
    if tags == {"__ndarray__", "dtype"}:
        return _decode_ndarray(value, name)
    if tags == {"__dict__"} and isinstance(value["__dict__"], list) and depth < 4:
        pairs = [_decode(p, name, arrays, depth + 1) for p in value["__dict__"]]
        if all(isinstance(p, list) and len(p) == 2
               and isinstance(p[0], bool | int | float | str | None) for p in pairs):
            return dict(pairs)
    if tags == {"__random_state__"} and name == "random_state":
        return _decode_random_state(value["__random_state__"], arrays)
    raise ModelFileError(f"hyperparameter {name} has an unsupported value "
                         f"{reprlib.repr(value)}.")


def _decode_ndarray(value, name):
    dtype, items = value["dtype"], value["__ndarray__"]
    if (isinstance(dtype, str) and _ARRAY_DTYPE.fullmatch(dtype)
            and isinstance(items, list)
            and all(isinstance(v, bool | int | float) for v in items)):
        try:
            array = np.array(items, dtype=dtype)
        except (OverflowError, ValueError):
            array = None
        if array is not None and array.tolist() == items:
            return array
    raise ModelFileError(f"hyperparameter {name} has an invalid array "
                         f"{reprlib.repr(value)}.")


def _decode_random_state(spec, arrays):
    keys = {"pos", "has_gauss", "cached_gaussian"}
    _check_keys(spec, keys, keys, "random_state")
    key = arrays.pop("random_state_key", None)
    if (key is None or key.shape != (_MT_KEY_LEN,) or not _is_int(spec["pos"])
            or spec["pos"] > _MT_KEY_LEN or not _is_int(spec["has_gauss"])
            or spec["has_gauss"] > 1
            or not _is_float(spec["cached_gaussian"])):
        raise ModelFileError("random_state does not hold a valid RandomState state.")
    rng = np.random.RandomState()
    rng.set_state(("MT19937", key.astype(np.uint32), spec["pos"], spec["has_gauss"],
                   float(spec["cached_gaussian"])))
    return rng
