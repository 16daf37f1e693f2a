"""ONNX export of a fitted MLPScratchClassifier or MLPScratchRegressor (onnx.helper).

The graph mirrors :meth:`Network.predict_output`: each layer adds its own inference graph
(``to_onnx``: an affine layer a ``MatMul`` and an ``Add``, with a following batch norm
folded in; an activation its operator; dropout nothing), then the head. For the
classifier, ``Softmax`` or ``Sigmoid``; the labels come from the probabilities exactly
as ``predict`` derives them (``ArgMax``, or ``p > 0.5``) and are mapped to ``classes_``
with a ``Gather``. For the regressor, the identity (or ``Exp`` for ``loss='poisson'``)
gives ``"variable"``, shaped as ``predict``'s output.
:mod:`onnx` is imported only when :func:`to_onnx` runs (optional extra ``onnx``).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._batch_norm import BatchNorm
from ._layers import Dense

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax(axis=-1) on the last axis only, as predict_proba computes it


def to_onnx(estimator, *, opset=None):
    r"""Export a fitted :class:`MLPScratchClassifier` or regressor to an ONNX model.

    Parameters
    ----------
    estimator : MLPScratchClassifier or MLPScratchRegressor
        The fitted estimator.
    opset : int, default=None
        Opset of the default ONNX domain, at least 13; None means 17. Only standard
        operators are used (GELU is written with ``Erf``, SiLU with ``Sigmoid``), so
        any opset from 13 on works.

    Returns
    -------
    model : onnx.ModelProto
        A model with input ``"X"`` (float32, shape ``[N, n_features_in_]``) and
        outputs ``"label"`` (shape ``[N]``: ``classes_`` as int64, string, bool or
        float; multilabel: an int64 indicator of shape ``[N, n_outputs_]``) and
        ``"probabilities"`` (float32, ``[N, n_classes]``, as ``predict_proba``;
        binary problems give ``[1 - p, p]``). For a regressor, the one output is
        ``"variable"`` (float32, ``[N]`` for one target, ``[N, n_outputs_]`` for
        several, as ``predict``). It passes ``onnx.checker.check_model``.

    Raises
    ------
    ImportError
        If the ``onnx`` package is not installed.

    See Also
    --------
    sknumpy_mlp.save : Safe file format for Python.

    Notes
    -----
    Weights are always exported in float32: a float64 model is cast (its ONNX
    probabilities then agree with ``predict_proba`` to about 1e-6, not bit for bit).
    Batch normalization is folded into the preceding layer, in float64 before the cast:
    :math:`W' = W \operatorname{diag}(s)`, :math:`b' = (b - \mu) s + \beta` with
    :math:`s = \gamma / \sqrt{\sigma^2 + \epsilon}`. Dropout is the identity at
    inference and does not appear. Sparse input is not supported by the graph.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_iris
    >>> from sknumpy_mlp import MLPScratchClassifier, to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = MLPScratchClassifier(max_iter=300, random_state=0).fit(X, y)
    >>> model = to_onnx(clf)
    >>> session = ort.InferenceSession(model.SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(["label", "probabilities"], {"X": X})
    >>> bool((label == clf.predict(X)).all())
    True
    >>> bool(np.allclose(proba, clf.predict_proba(X), atol=1e-5))
    True
    """
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "to_onnx needs the 'onnx' package; install it with "
            "`pip install sknumpy_mlp[onnx]` (or `pip install onnx onnxruntime`)."
        ) from exc
    from ._estimator import MLPScratchClassifier
    from ._regressor import MLPScratchRegressor

    if not isinstance(estimator, MLPScratchClassifier | MLPScratchRegressor):
        raise TypeError(f"to_onnx expects an MLPScratchClassifier or an "
                        f"MLPScratchRegressor, got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    opset = _check_opset(opset, onnx)
    graph = _Graph(onnx)
    logits = _body(graph, estimator)
    head = (_regression_head if isinstance(estimator, MLPScratchRegressor)
            else _head)
    outputs = head(graph, estimator, logits)
    return graph.model(estimator, outputs, opset)


def _check_opset(opset, onnx):
    latest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(DEFAULT_OPSET, latest)
    if not isinstance(opset, int | np.integer) or not MIN_OPSET <= opset <= latest:
        raise ValueError(f"opset must be an int in [{MIN_OPSET}, {latest}], got "
                         f"{opset!r}.")
    return int(opset)


class _Graph:
    """Collects nodes and initializers, naming every intermediate result uniquely."""

    def __init__(self, onnx):
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes, self.initializers, self._scalars = [], [], {}

    def const(self, name, value):
        """Add an initializer (strings as an ONNX string tensor); return its name."""
        value = np.asarray(value)
        if value.dtype.kind == "U":
            tensor = self.helper.make_tensor(
                name, self.onnx.TensorProto.STRING, value.shape,
                [v.encode("utf-8") for v in value.ravel().tolist()])
        else:
            tensor = self.onnx.numpy_helper.from_array(value, name)
        self.initializers.append(tensor)
        return name

    def scalar(self, value):
        """A shared float32 scalar initializer."""
        if value not in self._scalars:
            self._scalars[value] = self.const(f"scalar_{len(self._scalars)}",
                                              np.float32(value))
        return self._scalars[value]

    def op(self, op_type, *inputs, name=None, **attrs):
        """Add one node; return the name of its output."""
        k = len(self.nodes)
        out = name or f"{op_type.lower()}_{k}"
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out],
                                                name=f"{op_type}_{k}", **attrs))
        return out

    def model(self, est, outputs, opset):
        """Wrap the graph into a checked model; ``outputs`` are (name, type, shape)."""
        from . import __version__

        h, tp = self.helper, self.onnx.TensorProto
        outputs = [h.make_tensor_value_info(*out) for out in outputs]
        inputs = [h.make_tensor_value_info("X", tp.FLOAT, [None, est.n_features_in_])]
        name = type(est).__name__
        graph = h.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        opsets = [h.make_opsetid("", opset)]
        model = h.make_model(graph, opset_imports=opsets, producer_name="sknumpy_mlp",
                             producer_version=__version__,
                             ir_version=h.find_min_ir_version_for(opsets))
        model.doc_string = f"{name} exported by sknumpy_mlp.to_onnx"
        self.onnx.checker.check_model(model, full_check=True)
        return model


def _body(g, est):
    """Every layer's inference graph in turn; return the name of the logits.

    A batch norm right after an affine layer is folded into its weights (in float64,
    before the cast): :math:`W s`, :math:`b s + t`.
    """
    net = est._network
    net.set_weights(est.coefs_, est.intercepts_)  # what predict uses, as pickling does
    x, layers, i = "X", net.layers, 0
    while i < len(layers):
        layer, after = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, Dense) and isinstance(after, BatchNorm):
            x = layer.to_onnx(g, x, *after.affine())
            i += 2
        else:
            x = layer.to_onnx(g, x)
            i += 1
    return x


def _head(g, est, logits):
    """Probabilities and labels as predict_proba and predict compute them.

    Returns the graph outputs as ``(name, element type, shape)`` triples.
    """
    tp = g.onnx.TensorProto
    n_classes = 2 if est.n_outputs_ == 1 else est.n_outputs_
    proba_out = ("probabilities", tp.FLOAT, [None, n_classes])
    if est.out_activation_ == "softmax":
        proba = g.op("Softmax", logits, axis=-1, name="probabilities")
        index = g.op("ArgMax", proba, axis=1, keepdims=0)  # first maximum, as NumPy
    elif est._label_binarizer.y_type_ == "multilabel-indicator":
        proba = g.op("Sigmoid", logits, name="probabilities")
        positive = g.op("Greater", proba, g.scalar(0.5))  # LabelBinarizer's threshold
        g.op("Cast", positive, to=tp.INT64, name="label")
        return [("label", tp.INT64, [None, est.n_outputs_]), proba_out]
    else:
        p = g.op("Sigmoid", logits)  # (N, 1)
        g.op("Concat", g.op("Sub", g.scalar(1.0), p), p, axis=1, name="probabilities")
        positive = g.op("Cast", g.op("Greater", p, g.scalar(0.5)), to=tp.INT64)
        index = g.op("Reshape", positive, g.const("flat", np.array([-1], np.int64)))
    classes = g.const("classes", _onnx_classes(est.classes_))
    g.op("Gather", classes, index, axis=0, name="label")
    return [("label", g.initializers[-1].data_type, [None]), proba_out]


def _regression_head(g, est, logits):
    """The regressor's output, ``"variable"``: identity or exp, flat for one target."""
    tp = g.onnx.TensorProto
    op = est._network.head.onnx_op  # the head's output activation, None for identity
    out = g.op(op, logits) if op else logits
    if est.n_outputs_ == 1:
        g.op("Reshape", out, g.const("flat", np.array([-1], np.int64)), name="variable")
        return [("variable", tp.FLOAT, [None])]
    g.op("Identity", out, name="variable")
    return [("variable", tp.FLOAT, [None, est.n_outputs_])]


def _onnx_classes(classes):
    """``classes_`` in a dtype ONNX holds: int64, float32/64, bool or str."""
    values = [c.item() if isinstance(c, np.generic) else c for c in classes.tolist()]
    kinds = {type(v) for v in values}
    if kinds <= {bool}:
        return np.array(values, dtype=bool)
    if kinds <= {int}:
        if not all(np.iinfo(np.int64).min <= v <= np.iinfo(np.int64).max
                   for v in values):
            raise ValueError("to_onnx needs integer classes_ that fit in int64.")
        return np.array(values, dtype=np.int64)
    if kinds <= {float}:
        return classes.astype(classes.dtype if classes.dtype.kind == "f" else float)
    return np.array([str(v) for v in values], dtype=str)
