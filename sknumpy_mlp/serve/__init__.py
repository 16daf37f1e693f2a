"""Draw a digit in the browser and watch the network read it.

``python -m sknumpy_mlp serve`` trains a network on scikit-learn's bundled digits
in about a second and serves a page on http://127.0.0.1:8000/: draw on the canvas
and the ten class probabilities update as you draw, next to the image the network
is actually given (the drawing put through :func:`preprocess`, the steps its
training data went through). A second panel shows random test images with the
network's guesses, the wrong ones marked.

The pieces, for use without the command line: :func:`preprocess` (a drawing to the
model's 8x8 or 28x28 input), :class:`DigitReader` (a fitted model behind the page's
JSON endpoints) and :func:`make_server` (a small standard-library HTTP server).
"""

from ._app import DigitReader, RequestError, parse_drawing
from ._cli import main
from ._http import make_server, running
from ._preprocess import preprocess

__all__ = ["DigitReader", "RequestError", "main", "make_server", "parse_drawing",
           "preprocess", "running"]
