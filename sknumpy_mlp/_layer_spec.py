"""A network's layers as JSON, ``[{"layer": name, **config}, ...]``, checked on load.

Every layer registered in :data:`~._layers.LAYERS` is rebuilt from its constructor
arguments (``config()``), so this one spec holds any network of the layer protocol. On
load, :func:`decode_layers` accepts only what a saved layer could have written:

- a registered name, and as keys exactly the constructor's parameters;
- values that are ints in ``[0, MAX_INT]``, finite floats, bools, strings or lists of
  such ints, and that the layer gives back unchanged, type for type (``n_in=2.5`` or
  ``n_in="2"`` would be coerced by the constructor and are refused instead);
- widths that chain: each layer takes what the one below gives, from the input width
  to the output width the caller expects, and parameter sizes that stay far below any
  overflow. The sizes are then known without allocating (:class:`~._layout.Layout`).
"""

import inspect
import math
import reprlib

from ._layers import LAYERS
from ._model_file import ModelFileError

MAX_INT = 2**31 - 1
_MAX_SIZE = 2**40  # values in one parameter: far beyond any file, far below int64


def encode_layers(layers):
    """The JSON spec of ``layers``; a layer not registered under its name is refused."""
    specs = []
    for layer in layers:
        if LAYERS.get(layer.name) is not type(layer):
            raise TypeError(f"Cannot save the layer {layer!r}: its class is not the one "
                            "registered in LAYERS under its name.")
        config = layer.config()
        if "layer" in config or not all(_plain(v) for v in config.values()):
            raise TypeError(f"Cannot save the layer {layer!r}: its config holds values "
                            "other than ints, floats, bools, strings and lists of ints.")
        specs.append({"layer": layer.name, **config})
    return specs


def decode_layers(specs, n_in, n_out, what="the network"):
    """Rebuild the layers of ``specs``, which must map ``n_in`` inputs to ``n_out``."""
    if not isinstance(specs, list) or not specs:
        raise ModelFileError(f"{what} must list its layers.")
    layers = [_decode_layer(spec, f"{what}, layer {i}") for i, spec in enumerate(specs)]
    width = n_in
    for i, layer in enumerate(layers):
        w_in, w_out = _widths(layer, f"{what}, layer {i}")
        if w_in != width:
            raise ModelFileError(f"{what}, layer {i} ({layer.name}) takes {w_in} inputs "
                                 f"but gets {width}.")
        for p in [*layer.params(), *layer.states()]:
            if math.prod(p.shape) > _MAX_SIZE:
                raise ModelFileError(f"{what}, layer {i} ({layer.name}) declares a "
                                     f"parameter of shape {p.shape}.")
        width = w_out
    if width != n_out:
        raise ModelFileError(f"{what} gives {width} outputs, not {n_out}.")
    return layers


def _decode_layer(spec, what):
    name = spec.get("layer") if isinstance(spec, dict) else None
    if not isinstance(name, str) or name not in LAYERS:
        raise ModelFileError(f"{what}: unknown layer {reprlib.repr(name)}.")
    cls = LAYERS[name]
    config = {k: v for k, v in spec.items() if k != "layer"}
    names = set(inspect.signature(cls).parameters)
    missing, unknown = names - set(config), set(config) - names
    if missing or unknown:
        raise ModelFileError(f"{what} ({name}) has missing keys {sorted(missing)} or "
                             f"unknown keys {sorted(unknown)}.")
    if not all(_plain(v) for v in config.values()):
        raise ModelFileError(f"{what} ({name}) has invalid values "
                             f"{reprlib.repr(config)}.")
    try:
        layer = cls(**config)
    except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
        raise ModelFileError(f"{what} ({name}): {exc}") from None
    if not _same(layer.config(), config):
        raise ModelFileError(f"{what} ({name}) does not keep its values "
                             f"{reprlib.repr(config)}: wrong types or ranges.")
    return layer


def _plain(v, item=False):
    if type(v) is int:
        return 0 <= v <= MAX_INT
    if item:
        return False
    if type(v) is float:
        return math.isfinite(v)
    if type(v) in (bool, str):
        return True
    return type(v) is list and all(_plain(x, item=True) for x in v)


def _same(a, b):
    """Equal, type for type (``2 == 2.0`` and ``1 == True`` do not count)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _widths(layer, what):
    """``(inputs, outputs)``: ``n_in`` and ``width`` or ``n_out``, or ``n`` for both."""
    if hasattr(layer, "n_in"):
        return layer.n_in, getattr(layer, "width", getattr(layer, "n_out", None))
    if hasattr(layer, "n"):
        return layer.n, layer.n
    raise ModelFileError(f"{what} ({layer.name}) does not declare its widths.")
