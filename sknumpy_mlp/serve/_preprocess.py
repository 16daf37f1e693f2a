"""Turn a drawn digit into the input the network was trained on.

Two kinds of training data, two recipes, both applied to the ink of a drawing
(a 2-D array, 0 = paper, 1 = full ink, of any size):

``"digits"`` (scikit-learn's bundled 8x8 digits, UCI "optdigits")
    The NIST forms were scanned, each digit's bounding box scaled to fit a 32x32
    bitmap, and the bitmap cut into 4x4 blocks whose set pixels were counted: 8x8
    values 0..16. Here: crop to the ink, scale to fit 32x32 keeping the aspect
    ratio, centre, threshold at half ink, count the blocks.
``"mnist"`` (MNIST and other 28x28 IDX data)
    Each digit was scaled, anti-aliased, to fit a 20x20 box keeping the aspect
    ratio, then placed in a 28x28 image so that its centre of mass is the centre.

Both return the image on the scale the models are trained on, [0, 1] (the digits'
counts divided by 16, as :func:`sknumpy_mlp.datasets.load_digits_split` does).

References
----------
.. [1] Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten
   Digits. UCI Machine Learning Repository.
.. [2] LeCun, Y., Cortes, C. and Burges, C. J. C. The MNIST database of
   handwritten digits.
"""

import numpy as np

__all__ = ["KINDS", "preprocess"]

# kind -> (side of the model's image, number of features)
KINDS = {"digits": (8, 64), "mnist": (28, 784)}

# Mean number of set pixels in the 32x32 bitmaps of sklearn's digits (307 to 330
# by class), and how far the stroke may be widened to reach it.
_DIGITS_INK_AREA = 312
_MAX_DILATIONS = 5
_INK = 0.1  # a pixel with less ink than this is paper (anti-aliasing fringe, noise)


def preprocess(image, kind="digits"):
    """The model's view of a drawn digit.

    Parameters
    ----------
    image : array-like of shape (height, width)
        Ink of the drawing, 0 (paper) to 1 (full ink). Any size; the digit may sit
        anywhere in it and have any size.
    kind : {"digits", "mnist"}, default="digits"
        The training data to match: 8x8 block counts or 28x28 centred by mass.

    Returns
    -------
    model_image : ndarray of shape (8, 8) or (28, 28), dtype float64
        Values in [0, 1]; for ``"digits"`` multiples of 1/16 (block counts / 16).
        All zeros when the drawing has no ink.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpy_mlp.serve import preprocess
    >>> canvas = np.zeros((100, 100))
    >>> canvas[10:90, 45:55] = 1.0          # a vertical bar: a "1"
    >>> (preprocess(canvas) * 16).astype(int)[0]
    array([ 0,  0,  4, 16, 16,  0,  0,  0])
    >>> preprocess(canvas, "mnist").shape
    (28, 28)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    ink = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if ink.ndim != 2:
        raise ValueError(f"image must be 2-D (height, width), got shape {ink.shape}")
    side = KINDS[kind][0]
    box = _ink_box(ink)
    if box is None:
        return np.zeros((side, side))
    ink = ink[box]
    if kind == "digits":
        return _digits(ink)
    return _mnist(ink)


def _digits(ink):
    """optdigits: fit in 32x32, binarize, count 4x4 blocks (0..16), scale to [0, 1].

    The bitmaps behind the bundled digits have about 310 of their 1024 pixels set,
    whatever the digit and the writer (an ink area the NIST normalisation seems to
    impose); a pen of fixed width on a canvas gives a thin or a fat stroke instead,
    depending on how large one draws. So the stroke is thickened to the ink area
    nearest that: ``k`` 3x3 dilations widen it by ``2k`` pixels, after fitting the
    digit into a box ``2k`` pixels smaller so that it still spans 32.
    """
    best = None
    for k in range(_MAX_DILATIONS + 1):
        bitmap = _fit(ink, 32 - 2 * k) >= 0.5
        for _ in range(k):
            bitmap = _dilate(bitmap)
        miss = abs(int(bitmap.sum()) - _DIGITS_INK_AREA)
        if best is None or miss < best[0]:
            best = miss, bitmap
    bitmap = _place_centred(best[1], 32)  # (32, 32)
    counts = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))  # (8, 8) in 0..16
    return counts / 16.0


def _dilate(bitmap):
    """One 3x3 binary dilation; the image grows by a pixel on each side."""
    h, w = bitmap.shape
    padded = np.pad(bitmap, 2)
    out = np.zeros((h + 2, w + 2), dtype=bool)
    for dr in range(3):
        for dc in range(3):
            out |= padded[dr:dr + h + 2, dc:dc + w + 2]
    return out


def _mnist(ink):
    """MNIST: fit in 20x20 (grey levels kept), centre of mass to the middle of 28x28."""
    digit = _fit(ink, 20)
    rows, cols = np.indices(digit.shape)
    mass = digit.sum()
    # Where the digit's top-left corner goes so that its centre of mass lands on
    # (14, 14): pixel centres are at index + 0.5, the image's centre is at 14.
    top = int(round(14 - (rows * digit).sum() / mass - 0.5))
    left = int(round(14 - (cols * digit).sum() / mass - 0.5))
    out = np.zeros((28, 28))
    _paste(out, digit, top, left)
    return out


def _ink_box(ink):
    """Slices of the bounding box of the pixels with ink, None for a blank image."""
    rows = np.flatnonzero(ink.max(axis=1) >= _INK)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.max(axis=0) >= _INK)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _fit(ink, side):
    """Resize ``ink`` so that its longer side is ``side`` pixels, aspect ratio kept."""
    h, w = ink.shape
    scale = side / max(h, w)
    out_h = min(side, max(1, round(h * scale)))
    out_w = min(side, max(1, round(w * scale)))
    resized = _area_matrix(out_h, h) @ ink @ _area_matrix(out_w, w).T
    return np.clip(resized, 0.0, 1.0)  # rounding may overshoot 1 by an ulp or two


def _area_matrix(n_out, n_in):
    """(n_out, n_in) weights of area-averaging resampling along one axis.

    Output pixel ``i`` covers input coordinates ``[i, i + 1) * n_in / n_out``; its
    value is the mean of the input over that interval, so weight ``[i, j]`` is the
    overlap of that interval with input pixel ``[j, j + 1)``, divided by its length.
    This is exact box filtering for any ratio, up- or down-sampling.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]  # (n_out, 1)
    j = np.arange(n_in)[None, :]  # (1, n_in)
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / (n_in / n_out)


def _place_centred(digit, side):
    """``digit`` in the middle of a ``side`` x ``side`` blank image."""
    out = np.zeros((side, side))
    h, w = digit.shape
    _paste(out, digit, (side - h) // 2, (side - w) // 2)
    return out


def _paste(out, digit, top, left):
    """Copy ``digit`` into ``out`` at (top, left), clipping what falls outside."""
    h, w = digit.shape
    H, W = out.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, H), min(left + w, W)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = digit[r0 - top:r1 - top, c0 - left:c1 - left]
