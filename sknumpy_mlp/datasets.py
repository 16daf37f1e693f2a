"""Loaders for the data sets used in examples, tests and benchmarks.

MNIST and Fashion-MNIST are read from their original IDX files (plain or
gzipped) with NumPy alone; scikit-learn's bundled digits need no file at all.
Nothing here touches the network except :func:`load_openml`.
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "find_fashion_mnist",
    "load_digits_split",
    "load_idx",
    "load_idx_folder",
    "load_openml",
]

# Third byte of an IDX magic number -> big-endian element type (LeCun's spec).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# Where Debian's ``dataset-fashion-mnist`` (and a few common tools) put the files.
_FASHION_MNIST_DIRS = (
    "/usr/share/datasets/fashion-mnist",
    "/usr/local/share/datasets/fashion-mnist",
    "~/.local/share/datasets/fashion-mnist",
    "~/.keras/datasets/fashion-mnist",
    "~/data/fashion-mnist",
)
_FASHION_MNIST_ENV = "SKNUMPY_MLP_FASHION_MNIST"

_OPENML_NAMES = ("mnist_784", "Fashion-MNIST")


def load_idx(path):
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    Parameters
    ----------
    path : str or path-like
        The file. Gzip compression is recognised from the content, not the
        file name.

    Returns
    -------
    array : ndarray
        A writeable, native-endian array whose dtype and shape come from the
        file's header (``uint8`` images of shape ``(n, 28, 28)`` for MNIST).

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is not valid gzip, its magic number or header is
        malformed, or it holds fewer or more data bytes than the header
        declares.

    Notes
    -----
    The header is a magic number ``0x00 0x00 T D`` where ``T`` codes the
    element type (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C
    int32, 0x0D float32, 0x0E float64) and ``D`` is the number of
    dimensions, followed by ``D`` big-endian unsigned 32-bit sizes and the
    data in row-major, big-endian order.

    References
    ----------
    Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of
    handwritten digits", section "File formats for the MNIST database".

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> from sknumpy_mlp.datasets import load_idx
    >>> header = bytes([0, 0, 0x08, 2])  # unsigned bytes, 2 dimensions
    >>> header += (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tiny-idx2-ubyte.gz")
    ...     with gzip.open(path, "wb") as f:
    ...         _ = f.write(header + bytes(range(6)))
    ...     load_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path} is not a valid gzip file: {exc}") from exc
    dtype, shape, offset = _parse_idx_header(raw, path)
    n_expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    n_found = len(raw) - offset
    if n_found != n_expected:
        problem = "is truncated" if n_found < n_expected else "has trailing bytes"
        raise ValueError(
            f"IDX file {path} {problem}: its header declares shape {shape} of "
            f"{dtype.name} ({n_expected} data bytes) but {n_found} bytes follow "
            "the header."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a native, writeable copy


def _parse_idx_header(raw, path):
    """Return ``(dtype, shape, data_offset)`` from the bytes of an IDX file."""
    if len(raw) < 4:
        raise ValueError(
            f"{path} is too short ({len(raw)} bytes) to hold an IDX magic number."
        )
    if raw[0] != 0 or raw[1] != 0:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(
            f"{path} is not an IDX file: magic number 0x{magic:08X} does not "
            "start with two zero bytes."
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(
            f"{path} has unknown IDX data type code 0x{code:02X} (known: {known})."
        )
    if ndim == 0:
        raise ValueError(f"{path} declares 0 dimensions in its IDX header.")
    offset = 4 + 4 * ndim
    if len(raw) < offset:
        raise ValueError(
            f"{path} has a truncated IDX header: {ndim} dimension sizes need "
            f"{offset} bytes but the file holds {len(raw)}."
        )
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    return _IDX_DTYPES[code], shape, offset


def load_idx_folder(folder):
    """Load the four MNIST / Fashion-MNIST IDX files found in one folder.

    Parameters
    ----------
    folder : str or path-like
        A folder holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte``, each optionally ending in ``.gz``.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_pixels), dtype float32
        Training images, one flattened image a row (784 pixels for 28x28),
        scaled from bytes to [0, 1].
    y_train : ndarray of shape (n_train,), dtype int64
        Training labels.
    X_test : ndarray of shape (n_test, n_pixels), dtype float32
        Test images, scaled like `X_train`.
    y_test : ndarray of shape (n_test,), dtype int64
        Test labels.

    Raises
    ------
    FileNotFoundError
        If the folder or any of the four files is missing.
    ValueError
        If a file is malformed, images are not unsigned bytes, or images and
        labels disagree in number.

    See Also
    --------
    find_fashion_mnist : Locate Fashion-MNIST installed by a system package.
    load_idx : Read a single IDX file.

    Examples
    --------
    >>> from sknumpy_mlp.datasets import find_fashion_mnist, load_idx_folder
    >>> X_train, y_train, X_test, y_test = load_idx_folder(
    ...     find_fashion_mnist())  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_train.dtype  # doctest: +SKIP
    ((60000, 784), dtype('float32'), dtype('int64'))
    """
    folder = Path(folder)
    paths = _find_idx_files(folder)
    X_train, y_train = _images_and_labels(paths[0], paths[1])
    X_test, y_test = _images_and_labels(paths[2], paths[3])
    return X_train, y_train, X_test, y_test


def _find_idx_files(folder):
    """Return the paths of the four standard files, preferring uncompressed."""
    expected = ", ".join(f"{stem}[.gz]" for stem in _IDX_STEMS)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"MNIST-format data folder {str(folder)!r} does not exist; it "
            f"should contain {expected}."
        )
    paths, missing = [], []
    for stem in _IDX_STEMS:
        found = [folder / name for name in (stem, stem + ".gz")]
        found = [p for p in found if p.is_file()]
        paths.append(found[0] if found else None)
        if not found:
            missing.append(f"{stem}[.gz]")
    if missing:
        raise FileNotFoundError(
            f"MNIST-format files missing in {str(folder)!r}: {', '.join(missing)}. "
            f"The folder should contain {expected} (Debian's package "
            "dataset-fashion-mnist installs them in "
            f"{_FASHION_MNIST_DIRS[0]})."
        )
    return paths


def _images_and_labels(images_path, labels_path):
    images, labels = load_idx(images_path), load_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim < 2:
        raise ValueError(
            f"{images_path} should hold unsigned-byte images, found "
            f"{images.dtype} of shape {images.shape}."
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{labels_path} holds labels of shape {labels.shape} for "
            f"{len(images)} images in {images_path}."
        )
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0  # in place: one float32 copy of the images, not two
    return X, labels.astype(np.int64)


def find_fashion_mnist():
    """Return the folder holding the Fashion-MNIST IDX files, if any.

    Looks first at the folder named by the environment variable
    ``SKNUMPY_MLP_FASHION_MNIST``, then at a few usual places, starting with
    ``/usr/share/datasets/fashion-mnist`` where Debian's package
    ``dataset-fashion-mnist`` installs the four gzipped files.

    Returns
    -------
    folder : pathlib.Path or None
        The first folder holding all four files (plain or ``.gz``), or None
        when there is none.

    See Also
    --------
    load_idx_folder : Load the files from the folder found here.

    Examples
    --------
    >>> from sknumpy_mlp.datasets import find_fashion_mnist
    >>> find_fashion_mnist()  # doctest: +SKIP
    PosixPath('/usr/share/datasets/fashion-mnist')
    """
    candidates = list(_FASHION_MNIST_DIRS)
    if os.environ.get(_FASHION_MNIST_ENV):
        candidates.insert(0, os.environ[_FASHION_MNIST_ENV])
    for candidate in candidates:
        folder = Path(candidate).expanduser()
        if all(
            (folder / stem).is_file() or (folder / (stem + ".gz")).is_file()
            for stem in _IDX_STEMS
        ):
            return folder
    return None


def load_digits_split(test_size=0.25, random_state=0):
    """Split scikit-learn's bundled 8x8 digits into scaled train and test sets.

    Parameters
    ----------
    test_size : float or int, default=0.25
        Fraction (float) or number (int) of samples held out for testing.
    random_state : int, RandomState instance or None, default=0
        Seed of the stratified shuffle split.

    Returns
    -------
    X_train : ndarray of shape (n_train, 64), dtype float32
        Training images scaled from 0..16 to [0, 1].
    y_train : ndarray of shape (n_train,), dtype int64
        Training labels 0..9.
    X_test : ndarray of shape (n_test, 64), dtype float32
        Test images, scaled like `X_train`.
    y_test : ndarray of shape (n_test,), dtype int64
        Test labels, in the same class proportions as `y_train`.

    See Also
    --------
    sklearn.datasets.load_digits : The 1,797 bundled images.

    Examples
    --------
    >>> from sknumpy_mlp.datasets import load_digits_split
    >>> X_train, y_train, X_test, y_test = load_digits_split()
    >>> X_train.shape, X_test.shape
    ((1347, 64), (450, 64))
    >>> X_train.dtype, y_train.dtype, float(X_train.max())
    (dtype('float32'), dtype('int64'), 1.0)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y
    )
    return X_train, y_train, X_test, y_test


def load_openml(name="mnist_784", *, data_home=None):
    """Download MNIST or Fashion-MNIST from OpenML (needs a network).

    A thin wrapper around :func:`sklearn.datasets.fetch_openml` that returns
    the same arrays as :func:`load_idx_folder`, split as in the original
    data sets (the first 60,000 rows train, the last 10,000 test).

    Parameters
    ----------
    name : {"mnist_784", "Fashion-MNIST"}, default="mnist_784"
        The OpenML data set.
    data_home : str or path-like, default=None
        Cache folder passed to :func:`~sklearn.datasets.fetch_openml`
        (``~/scikit_learn_data`` when None).

    Returns
    -------
    X_train : ndarray of shape (60000, 784), dtype float32
        Training images scaled to [0, 1].
    y_train : ndarray of shape (60000,), dtype int64
        Training labels.
    X_test : ndarray of shape (10000, 784), dtype float32
        Test images scaled to [0, 1].
    y_test : ndarray of shape (10000,), dtype int64
        Test labels.

    Raises
    ------
    ValueError
        If `name` is not one of the two supported data sets.

    See Also
    --------
    load_idx_folder : The same data from local files, without a network.

    Examples
    --------
    >>> from sknumpy_mlp.datasets import load_openml
    >>> X_train, y_train, X_test, y_test = load_openml(
    ...     "Fashion-MNIST")  # doctest: +SKIP
    """
    if name not in _OPENML_NAMES:
        raise ValueError(f"name must be one of {_OPENML_NAMES}, got {name!r}.")
    from sklearn.datasets import fetch_openml

    X, y = fetch_openml(
        name, version=1, as_frame=False, return_X_y=True, data_home=data_home
    )
    X = np.asarray(X, dtype=np.float32) / np.float32(255.0)
    y = np.asarray(y).astype(np.int64)
    return X[:60000], y[:60000], X[60000:], y[60000:]
