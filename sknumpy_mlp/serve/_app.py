"""What the page asks of the model, without HTTP: read a drawing, show test images.

The JSON bodies are checked here, so that a bad request becomes a
:class:`RequestError` (a 400 with its message), never a traceback.
"""

import json

import numpy as np

from ._preprocess import KINDS, preprocess

__all__ = ["DigitReader", "RequestError", "parse_count", "parse_drawing"]

MAX_SIDE = 512  # pixels per side of a drawing; the page sends 280x280
MAX_SAMPLES = 48  # test images per request


class RequestError(ValueError):
    """A request the server refuses, with a message for the client (HTTP 400)."""


def parse_drawing(body):
    """The ink array of a ``/api/predict`` body, checked.

    Parameters
    ----------
    body : bytes
        JSON ``{"image": [[...], ...]}``: rows of equal length, each value an
        integer or float from 0 (paper) to 255 (full ink), at most
        ``MAX_SIDE`` x ``MAX_SIDE``.

    Returns
    -------
    ink : ndarray of shape (height, width), dtype float64
        The drawing scaled to [0, 1].

    Raises
    ------
    RequestError
        If the body is not such JSON.
    """
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise RequestError("the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict) or "image" not in payload:
        raise RequestError('expected a JSON object {"image": [[0..255, ...], ...]}')
    rows = payload["image"]
    if not isinstance(rows, list) or not rows or not all(
            isinstance(r, list) and r for r in rows):
        raise RequestError('"image" must be a non-empty list of non-empty rows')
    height, width = len(rows), len(rows[0])
    if height > MAX_SIDE or width > MAX_SIDE:
        raise RequestError(f'"image" is {height}x{width}; at most {MAX_SIDE}x{MAX_SIDE}')
    if any(len(r) != width for r in rows):
        raise RequestError('every row of "image" must have the same length')
    if not all(type(v) in (int, float) for r in rows for v in r):  # bool is no number here
        raise RequestError('"image" values must be numbers')
    try:
        ink = np.array(rows, dtype=np.float64)
    except OverflowError:  # an integer beyond float range
        raise RequestError('"image" values must be between 0 and 255') from None
    if ink.min() < 0 or ink.max() > 255:
        raise RequestError('"image" values must be between 0 and 255')
    return ink / 255.0


def _reject_constant(name):
    raise RequestError(f"{name} is not a number JSON allows")


class DigitReader:
    """A fitted classifier with the preprocessing its training data had.

    Parameters
    ----------
    model : fitted classifier
        With ``predict_proba``, ``classes_`` and 64 (8x8 digits) or 784 (28x28,
        MNIST) input features scaled to [0, 1].
    X_test, y_test : ndarray, default=None
        Held-out images (one flattened image a row, like the training data) and
        labels for the panel of test images; without them that panel is empty.
    description : str, default=""
        A line about the model and its data, shown on the page.
    random_state : int, RandomState instance or None, default=None
        Which test images are drawn.
    """

    def __init__(self, model, X_test=None, y_test=None, *, description="",
                 random_state=None):
        from sklearn.utils import check_random_state

        n_features = getattr(model, "n_features_in_", None)
        kinds = {n: kind for kind, (_, n) in KINDS.items()}
        if n_features not in kinds:
            raise ValueError(
                f"the model takes {n_features} features; the page can draw for 64 "
                "(8x8 digits) or 784 (28x28 MNIST-like) only")
        self.model = model
        self.kind = kinds[n_features]
        self.side = KINDS[self.kind][0]
        self.X_test, self.y_test = X_test, y_test
        self.description = description
        self._rng = check_random_state(random_state)
        self.accuracy = None
        if X_test is not None and len(X_test):
            self.accuracy = float(np.mean(model.predict(X_test) == y_test))

    def info(self):
        """Page settings: the kind of input, classes, description, test accuracy."""
        return {"kind": self.kind, "side": self.side,
                "classes": [_label(c) for c in self.model.classes_],
                "description": self.description, "accuracy": self.accuracy,
                "n_test": 0 if self.X_test is None else len(self.X_test)}

    def read(self, ink):
        """Probabilities for a drawing, and the image the model was given."""
        model_image = preprocess(ink, self.kind)
        blank = not model_image.any()
        proba = self.model.predict_proba(model_image.reshape(1, -1))[0]
        best = int(np.argmax(proba))
        return {"probabilities": _rounded(proba), "blank": blank,
                "predicted": None if blank else _label(self.model.classes_[best]),
                "confidence": None if blank else round(float(proba[best]), 4),
                "model_input": _rounded(model_image)}

    def samples(self, n):
        """``n`` random test images with label, prediction and confidence."""
        if self.X_test is None or not len(self.X_test):
            return {"samples": []}
        pick = self._rng.choice(len(self.X_test), size=min(n, len(self.X_test)),
                                replace=False)
        X = np.asarray(self.X_test[pick])
        proba = self.model.predict_proba(X)  # (n, n_classes)
        best = np.argmax(proba, axis=1)
        return {"samples": [
            {"image": _rounded(x.reshape(self.side, self.side)),
             "label": _label(self.y_test[i]),
             "predicted": _label(self.model.classes_[b]),
             "confidence": round(float(p[b]), 4)}
            for x, i, b, p in zip(X, pick, best, proba)]}


def parse_count(text):
    """The ``n`` of ``/api/samples?n=``: an integer 1..MAX_SAMPLES (default 12)."""
    if text is None:
        return 12
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_SAMPLES:
        raise RequestError(f"n must be an integer from 1 to {MAX_SAMPLES}, got {text!r}")
    return n


def _label(value):
    """A class label as JSON: ints stay ints, anything else becomes its text."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return str(value)


def _rounded(array, digits=4):
    """Nested lists of floats, short enough to keep responses small."""
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()

