"""The model file container both safe formats share: a zip of ``.npy`` members and JSON.

A model file is an *uncompressed* NumPy ``.npz`` archive whose members are
``metadata`` (uint8: the UTF-8 bytes of a JSON object), ``params`` and ``state``
(float32 or float64: flat network buffers), and optionally ``random_state_key``
(uint32, ``(624,)``: the Mersenne-Twister key of a ``RandomState`` hyperparameter).
What the JSON holds depends on the estimator: :mod:`sknumpy_mlp._persistence` for the
MLPs, :mod:`sknumpy_mlp.tabular._persistence` for the tabular estimators. Both share
the header keys ``format`` (``"sknumpy_mlp"``), ``format_version``, ``estimator`` and
``versions``, and the encoding of hyperparameters (``get_params()``; tuples, arrays and
dicts with non-string keys tagged as ``{"__tuple__": [...]}``,
``{"__ndarray__": [...], "dtype": ...}`` and ``{"__dict__": [[key, value], ...]}``).

:func:`load_model` reads the file with ``np.load(..., allow_pickle=False)``, checks every
member's header (dtype, shape, size; object arrays are refused) before reading it, and
hands the JSON and arrays to a format's ``build``, which validates every field and
raises :class:`ModelFileError` for anything it does not expect. Only uncompressed members
are accepted, so the memory a file can claim is bounded by its size.
"""

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

from ._layout import Layout
from ._network import Network

FORMAT_NAME = "sknumpy_mlp"
FORMAT_VERSION = 1
# member -> (dtype kinds, itemsizes) it may have
_MEMBERS = {"metadata": ("u", (1,)), "params": ("f", (4, 8)), "state": ("f", (4, 8)),
            "random_state_key": ("u", (4,))}
_MT_KEY_LEN = 624
_CLASS_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[48]|U[0-9]{1,6}|O)")
_ARRAY_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[48])")
_CLASS_TYPES = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float), "U": (str,),
                "O": (str, int, float, bool)}
# Anything the zip/npy/json readers raise on a damaged file (the read stage only).
_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, IndexError,
                OverflowError, NotImplementedError, RuntimeError, SyntaxError,
                zipfile.BadZipFile, zlib.error, struct.error)


class ModelFileError(ValueError):
    """Raised by :func:`sknumpy_mlp.load` for a file that is not a valid model file."""


# ------------------------------------------------------------- writing, reading
def write_model(path, meta, arrays):
    """Write the JSON ``meta`` and the 1-D ``arrays`` to ``path`` (a path or a file)."""
    text = json.dumps(meta, indent=1, allow_nan=True)
    arrays = {**arrays, "metadata": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    if isinstance(path, str | os.PathLike):
        with open(path, "wb") as f:  # np.savez would append ".npz" to a path
            np.savez(f, **arrays)
    else:
        np.savez(path, **arrays)


def load_model(path, build):
    """``build(meta, arrays)`` on the file's checked members; errors name the file."""
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as f:
            return _load(f, repr(os.fspath(path)), build)
    if not path.seekable():
        path = io.BytesIO(path.read())
    return _load(path, "the file", build)


def _load(file, where, build):
    try:
        arrays, meta = _read_archive(file)
        return build(meta, arrays)
    except ModelFileError as exc:
        raise ModelFileError(f"{where} is not a valid sknumpy_mlp model file: "
                             f"{exc}") from exc.__cause__


def check_format(meta, estimators):
    """Check the header shared by every model file; ``estimators`` are the names known."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelFileError("its metadata does not name the sknumpy_mlp format.")
    version = meta.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        raise ModelFileError(f"it has format version {version}, newer than this "
                             f"version reads ({FORMAT_VERSION}); upgrade sknumpy_mlp.")
    if version != FORMAT_VERSION or type(version) is not int:
        raise ModelFileError(f"unknown format version {version!r}.")
    if not isinstance(meta.get("estimator"), str) or meta["estimator"] not in estimators:
        raise ModelFileError(f"unknown estimator {reprlib.repr(meta.get('estimator'))}.")


def check_versions(versions):
    if not isinstance(versions, dict) or not all(
            isinstance(v, str) for v in versions.values()):
        raise ModelFileError("versions must map names to strings.")


def header(est):
    """The shared header keys of a model file for ``est``."""
    import sklearn

    from . import __version__  # the package imports this module first

    return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "estimator": type(est).__name__,
            "versions": {"sknumpy_mlp": __version__, "scikit-learn": sklearn.__version__,
                         "numpy": np.__version__}}


def network_from_buffers(layers, head, dtype, params, state, what):
    """A fresh Network holding the saved buffers, their sizes checked first.

    ``what`` names the layers in messages. Nothing of the declared sizes is allocated
    before the arrays read from the file are found to have them.
    """
    layout = Layout(layers)  # sizes only: nothing of that size is allocated yet
    for name, array, size in (("params", params, layout.n_params),
                              ("state", state, layout.n_state)):
        if array.shape != (size,) or array.dtype.itemsize != dtype.itemsize:
            raise ModelFileError(f"{name} has {array.size} {array.dtype.name} values; "
                                 f"{what} ({dtype.name}) need {size}.")
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{name} holds non-finite values.")
    net = Network(layers, head, dtype)
    net.params[...] = params  # same dtype up to byte order: an exact copy
    net.state[...] = state
    if any(np.any(bn.running_var < 0) for bn in net.norms):
        raise ModelFileError("a batch-norm running variance is negative.")
    return net


# ------------------------------------------------------------ hyperparameters
def encode_params(est):
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


def encode_classes(classes):
    if classes.ndim != 1 or classes.dtype.kind not in _CLASS_TYPES:
        raise TypeError(f"Cannot save classes of dtype {classes.dtype}.")
    values = [v.item() if isinstance(v, np.generic) else v for v in classes.tolist()]
    if not all(isinstance(v, _CLASS_TYPES[classes.dtype.kind]) for v in values):
        raise TypeError("Cannot save classes that are not str, int, float or bool.")
    return {"dtype": classes.dtype.str, "values": values}


def to_json(kind, value):
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


# ----------------------------------------------------------------- the archive
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


# ------------------------------------------------------------------ validation
def check_keys(obj, required, allowed, what):
    if not isinstance(obj, dict):
        raise ModelFileError(f"{what} is not a JSON object.")
    missing, unknown = set(required) - set(obj), set(obj) - set(allowed)
    if missing or unknown:
        raise ModelFileError(f"{what} has missing keys {sorted(missing)} or unknown "
                             f"keys {sorted(unknown)}.")


def is_int(v, low=0):
    return type(v) is int and v >= low


def is_float(v):
    return type(v) in (int, float)


def decode_classes(spec):
    check_keys(spec, {"dtype", "values"}, {"dtype", "values"}, "classes")
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


def check_kind(kind, value, name):
    if kind.startswith("opt_"):
        if value is None:
            return None
        kind = kind[4:]
    ok = {"count": is_int, "float": is_float, "str": lambda v: isinstance(v, str),
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


def make_estimator(spec, arrays, cls):
    """Decode ``get_params()`` and run the estimator's own parameter validation."""
    names = set(cls().get_params(deep=False))
    check_keys(spec, names, names, "params")
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
    check_keys(spec, keys, keys, "random_state")
    key = arrays.pop("random_state_key", None)
    if (key is None or key.shape != (_MT_KEY_LEN,) or not is_int(spec["pos"])
            or spec["pos"] > _MT_KEY_LEN or not is_int(spec["has_gauss"])
            or spec["has_gauss"] > 1
            or not is_float(spec["cached_gaussian"])):
        raise ModelFileError("random_state does not hold a valid RandomState state.")
    rng = np.random.RandomState()
    rng.set_state(("MT19937", key.astype(np.uint32), spec["pos"], spec["has_gauss"],
                   float(spec["cached_gaussian"])))
    return rng
