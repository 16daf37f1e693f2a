"""The safe format for :class:`TabularMLPClassifier` and :class:`TabularMLPRegressor`.

Same container as the MLPs' (:mod:`sknumpy_mlp._model_file`): ``params`` holds the flat
parameter buffers of every member network one after the other, ``state`` their state
buffers (empty: no tabular layer has state), ``random_state_key`` a ``RandomState``
hyperparameter. The JSON object has exactly the keys ``format``, ``format_version``
(``1``), ``estimator``, ``versions``, ``params`` (as for the MLPs), and

- ``preprocessor``: the fitted :class:`TabularPreprocessor`
  (:mod:`._preprocessing_state`);
- ``networks``: one ``{"dtype": ..., "layers": [{"layer": name, **config}, ...]}`` per
  member (:mod:`sknumpy_mlp._layer_spec`), the widths running from the preprocessor's
  output to ``n_outputs_``;
- ``target``: ``{"classes": ...}`` for the classifier; the regressor's standardization
  and clipping ``{"center", "scale", "min", "max"}`` (one value per target) and
  ``one_d`` (whether ``y`` was 1-D);
- ``fitted``: the other fitted attributes.

:func:`save`/:func:`load` of :mod:`sknumpy_mlp._persistence` dispatch here by the
estimator; every field is validated, and every size is checked against the layers'
declarations before anything of that size is allocated.
"""

import reprlib

import numpy as np

from .._layer_spec import decode_layers, encode_layers
from .._layout import Layout
from .._losses import get_loss
from .._model_file import (
    ModelFileError,
    check_keys,
    check_kind,
    check_versions,
    decode_classes,
    encode_classes,
    encode_params,
    header,
    is_float,
    make_estimator,
    network_from_buffers,
    to_json,
)
from .._regression_losses import IdentitySquaredError
from ._classifier import TabularMLPClassifier
from ._preprocessing import (
    TabularPreprocessor,
    _as_text,
    _RobustSmoothClip,
    _shift_codes,
    _signed_codes,
    with_saved_before,
)
from ._preprocessing_state import preprocessor_from_state, preprocessor_state
from ._regressor import TabularMLPRegressor

#: The estimators a file may hold, by the name it records.
ESTIMATORS = {cls.__name__: cls for cls in (TabularMLPClassifier, TabularMLPRegressor)}

#: What ``skops.io.get_untrusted_types`` reports for a fitted tabular model besides the
#: layers, heads and ``Network`` (which the core list has). Reviewed: the estimators
#: and transformers hold parameters and arrays; ``_as_text``, ``_shift_codes`` and
#: ``_signed_codes`` are
#: pure functions of this package; ``numpy.dtype`` (``SimpleImputer`` keeps its input's)
#: is built from a type string.
SKOPS_TRUSTED = (*ESTIMATORS.values(), TabularPreprocessor, _RobustSmoothClip, _as_text,
                 _shift_codes, _signed_codes, np.dtype)

_TOP_KEYS = {"format", "format_version", "estimator", "versions", "params",
             "preprocessor", "networks", "target", "fitted"}
_FITTED = {  # attribute -> kind; all but feature_names_in_ are always there
    "n_features_in_": "count", "n_outputs_": "count", "n_members_": "count",
    "n_iter_": "count", "loss_": "float", "loss_curve_": "float_list",
    "validation_scores_": "opt_float_list", "best_epochs_": "count_list",
    "feature_names_in_": "str_list",
}
_REQUIRED_FITTED = list(_FITTED)[:-1]
#: Parameters the estimator hands to its ``TabularPreprocessor`` in ``fit``.
_SHARED_WITH_PREPROCESSOR = ("max_one_hot_levels", "binary_encoding", "dtype")
_TARGET = {"center": "_y_center", "scale": "_y_scale", "min": "_y_min", "max": "_y_max"}


# ------------------------------------------------------------------------ saving
def encode_model(est):
    """``(metadata, arrays)`` of a fitted tabular estimator."""
    params, arrays = encode_params(est)
    unknown = {n for n in vars(est) if n.endswith("_") and not n.startswith("_")}
    unknown -= {*_FITTED, "classes_", "preprocessor_"}
    if unknown:  # a fitted attribute this format would silently drop
        raise TypeError(f"Cannot save the fitted attributes {sorted(unknown)}.")
    nets = est._networks
    if len({net.dtype for net in nets}) != 1:
        raise TypeError("Cannot save member networks of different dtypes.")
    arrays.update(params=np.concatenate([net.params for net in nets]),
                  state=np.concatenate([net.state for net in nets]))
    fitted = {name: [int(v) for v in est.best_epochs_] if kind == "count_list"
              else to_json(kind, getattr(est, name))
              for name, kind in _FITTED.items() if hasattr(est, name)}
    meta = {
        **header(est),
        "params": params,
        "preprocessor": preprocessor_state(est.preprocessor_),
        "networks": [{"dtype": net.dtype.name, "layers": encode_layers(net.layers)}
                     for net in nets],
        "target": _encode_target(est),
        "fitted": fitted,
    }
    return meta, arrays


def _encode_target(est):
    if isinstance(est, TabularMLPClassifier):
        return {"classes": encode_classes(est.classes_)}
    target = {key: [float(v) for v in getattr(est, name)] for key, name in _TARGET.items()}
    return {**target, "one_d": bool(est._y_1d)}


# ----------------------------------------------------------------------- loading
def build(meta, arrays):
    """The fitted estimator of a file whose header :func:`check_format` accepted."""
    check_keys(meta, _TOP_KEYS, _TOP_KEYS, "the metadata")
    check_versions(meta["versions"])
    cls = ESTIMATORS[meta["estimator"]]
    est = make_estimator(with_saved_before(meta["params"]), arrays, cls)
    pre = preprocessor_from_state(meta["preprocessor"])
    for name in _SHARED_WITH_PREPROCESSOR:  # the fit passes them on
        if getattr(pre, name) != getattr(est, name):
            raise ModelFileError(f"the preprocessor's {name}={getattr(pre, name)!r} is not "
                                 f"the estimator's {getattr(est, name)!r}.")
    fitted = _check_fitted(meta["fitted"], pre)
    n_outputs = fitted["n_outputs_"]
    if cls is TabularMLPClassifier:
        est.classes_, head = _check_classes(meta["target"], n_outputs), \
            get_loss(n_outputs, multilabel=False)
    else:
        _set_regression_target(est, meta["target"], n_outputs)
        head = IdentitySquaredError()
    n_in = len(pre.get_feature_names_out())
    est._networks = _make_networks(meta["networks"], fitted["n_members_"], n_in,
                                   n_outputs, head, arrays)
    if arrays:
        raise ModelFileError(f"unused members {sorted(arrays)}.")
    est.preprocessor_ = pre
    for name, value in fitted.items():
        setattr(est, name, value)
    return est


def _check_fitted(spec, pre):
    check_keys(spec, _REQUIRED_FITTED, _FITTED, "fitted")
    fitted = {name: check_kind(_FITTED[name], value, name) for name, value in spec.items()}
    if fitted["n_features_in_"] != pre.n_features_in_:
        raise ModelFileError(f"n_features_in_ is {fitted['n_features_in_']}; the "
                             f"preprocessor has {pre.n_features_in_} columns.")
    names = fitted.get("feature_names_in_")
    saved = getattr(pre, "feature_names_in_", None)
    if (names is None) != (saved is None) or (
            names is not None and names != saved.tolist()):
        raise ModelFileError("feature_names_in_ differ from the preprocessor's names.")
    if names is not None:
        fitted["feature_names_in_"] = np.asarray(names, dtype=object)
    n_members, n_iter = fitted["n_members_"], fitted["n_iter_"]
    scores = fitted["validation_scores_"]
    if (n_members < 1 or fitted["n_outputs_"] < 1
            or len(fitted["best_epochs_"]) != n_members
            or len(fitted["loss_curve_"]) != n_iter
            or (scores is not None and len(scores) != n_iter)
            or any(b >= n_iter for b in fitted["best_epochs_"])):
        raise ModelFileError("n_members_, n_iter_, n_outputs_, best_epochs_, loss_curve_ "
                             "and validation_scores_ do not agree.")
    return fitted


def _check_classes(spec, n_outputs):
    check_keys(spec, {"classes"}, {"classes"}, "target")
    classes = decode_classes(spec["classes"])
    if len(classes) < 2 or n_outputs != (1 if len(classes) == 2 else len(classes)):
        raise ModelFileError(f"{len(classes)} classes do not fit {n_outputs} outputs.")
    return classes


def _set_regression_target(est, spec, n_outputs):
    keys = {*_TARGET, "one_d"}
    check_keys(spec, keys, keys, "target")
    values = {}
    for key, name in _TARGET.items():
        v = spec[key]
        if not (isinstance(v, list) and len(v) == n_outputs and all(
                is_float(x) and np.isfinite(x) for x in v)):
            raise ModelFileError(f"target {key} must hold {n_outputs} finite numbers, "
                                 f"got {reprlib.repr(v)}.")
        values[name] = np.array(v, dtype=np.float64)
    if (type(spec["one_d"]) is not bool or (spec["one_d"] and n_outputs != 1)
            or np.any(values["_y_scale"] <= 0)
            or np.any(values["_y_min"] > values["_y_max"])):
        raise ModelFileError("the target's one_d, scale or range is invalid.")
    for name, value in values.items():
        setattr(est, name, value)
    est._y_1d = spec["one_d"]


def _make_networks(specs, n_members, n_in, n_out, head, arrays):
    """The member networks; the buffers' total sizes are checked before any is made."""
    if not isinstance(specs, list) or len(specs) != n_members:
        raise ModelFileError(f"networks must list the {n_members} member networks.")
    members = []
    for k, spec in enumerate(specs):
        what = f"network {k}"
        check_keys(spec, {"dtype", "layers"}, {"dtype", "layers"}, what)
        if spec["dtype"] not in ("float32", "float64"):
            raise ModelFileError(f"{what}: dtype must be float32 or float64, got "
                                 f"{reprlib.repr(spec['dtype'])}.")
        layers = decode_layers(spec["layers"], n_in, n_out, what)
        members.append((layers, np.dtype(spec["dtype"]), Layout(layers)))
    params, state = arrays.pop("params"), arrays.pop("state")
    sizes = [sum(getattr(layout, n) for *_, layout in members)
             for n in ("n_params", "n_state")]
    if len({dtype for _, dtype, _ in members}) != 1 or (params.size, state.size) != tuple(
            sizes):
        raise ModelFileError(f"params and state have {params.size} and {state.size} "
                             f"values; the networks need {sizes[0]} and {sizes[1]}, all "
                             "of one dtype.")
    nets, p, s = [], 0, 0
    for k, (layers, dtype, layout) in enumerate(members):
        nets.append(network_from_buffers(
            layers, head, dtype, params[p:p + layout.n_params],
            state[s:s + layout.n_state], f"network {k}"))
        p, s = p + layout.n_params, s + layout.n_state
    return nets
