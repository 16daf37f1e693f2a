import gzip
import struct

import numpy as np
import pytest

from sknumpy_mlp import datasets
from sknumpy_mlp.datasets import (
    find_fashion_mnist,
    load_digits_split,
    load_idx,
    load_idx_folder,
    load_openml,
)

# Written independently of the module under test, straight from LeCun's spec.
TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(array):
    array = np.asarray(array)
    code = TYPE_CODES[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, content, gz=False):
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(content)
    else:
        path.write_bytes(content)
    return path


def write_mnist_folder(folder, n_train=5, n_test=3, gz=(False, True, True, False)):
    rng = np.random.default_rng(0)
    arrays = [
        rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n_train, dtype=np.uint8),
        rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n_test, dtype=np.uint8),
    ]
    arrays[0][0, 0, 0], arrays[0][0, 0, 1] = 0, 255
    for stem, array, compress in zip(STEMS, arrays, gz):
        name = stem + ".gz" if compress else stem
        write(folder / name, idx_bytes(array), gz=compress)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5)])
def test_load_idx_round_trip(tmp_path, gz, dtype, shape):
    expected = (np.arange(np.prod(shape)) * 37 - 50).reshape(shape).astype(dtype)
    path = write(tmp_path / "data.idx", idx_bytes(expected), gz=gz)

    loaded = load_idx(path)

    assert loaded.shape == shape
    assert loaded.dtype == np.dtype(dtype)  # native byte order
    assert loaded.flags.writeable
    np.testing.assert_array_equal(loaded, expected)


def test_load_idx_reads_big_endian_values(tmp_path):
    content = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2]) + bytes([0x01, 0x02, 0xFF, 0xFE])
    loaded = load_idx(write(tmp_path / "be.idx", content))
    np.testing.assert_array_equal(loaded, [0x0102, -2])


def test_load_idx_accepts_str_path_and_empty_arrays(tmp_path):
    path = write(tmp_path / "empty.idx", idx_bytes(np.zeros((0, 28), np.uint8)))
    assert load_idx(str(path)).shape == (0, 28)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "too short"),
        (b"\x00\x00\x08", "too short"),
        (bytes([0x12, 0x34, 0x08, 1, 0, 0, 0, 1, 0]), "magic number 0x12340801"),
        (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), "unknown IDX data type code 0x07"),
        (bytes([0, 0, 0x08, 0]), "0 dimensions"),
        (bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0]), "truncated IDX header"),
        (bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(5), "is truncated"),
        (bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + bytes(7), "is truncated"),
        (bytes([0, 0, 0x08, 1, 0, 0, 0, 2]) + bytes(3), "trailing bytes"),
    ],
)
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_load_idx_rejects_malformed_files(tmp_path, content, message, gz):
    path = write(tmp_path / "bad.idx", content, gz=gz)
    with pytest.raises(ValueError, match=message):
        load_idx(path)


def test_load_idx_rejects_broken_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    path = write(tmp_path / "cut.idx.gz", good[: len(good) // 2])
    with pytest.raises(ValueError, match="not a valid gzip file"):
        load_idx(path)


def test_load_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "nope.idx")


def test_load_idx_folder(tmp_path):
    arrays = write_mnist_folder(tmp_path)

    X_train, y_train, X_test, y_test = load_idx_folder(tmp_path)

    assert X_train.shape == (5, 784) and X_test.shape == (3, 784)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    np.testing.assert_allclose(X_test * 255, arrays[2].reshape(3, -1), atol=1e-4)
    np.testing.assert_array_equal(y_train, arrays[1])
    np.testing.assert_array_equal(y_test, arrays[3])


def test_load_idx_folder_prefers_uncompressed(tmp_path):
    write_mnist_folder(tmp_path, gz=(True,) * 4)
    labels = np.full(5, 7, dtype=np.uint8)
    write(tmp_path / STEMS[1], idx_bytes(labels))
    _, y_train, _, _ = load_idx_folder(str(tmp_path))
    np.testing.assert_array_equal(y_train, labels)


def test_load_idx_folder_names_missing_files(tmp_path):
    write_mnist_folder(tmp_path, gz=(False,) * 4)
    (tmp_path / STEMS[3]).unlink()
    (tmp_path / STEMS[1]).unlink()
    with pytest.raises(FileNotFoundError) as excinfo:
        load_idx_folder(tmp_path)
    message = str(excinfo.value)
    missing = message.split("The folder should")[0]
    assert STEMS[1] in missing and STEMS[3] in missing
    assert STEMS[0] not in missing
    for stem in STEMS:  # and it says what the folder should hold
        assert f"{stem}[.gz]" in message


def test_load_idx_folder_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*t10k-labels"):
        load_idx_folder(tmp_path / "nowhere")


def test_load_idx_folder_rejects_label_count_mismatch(tmp_path):
    write_mnist_folder(tmp_path, gz=(False,) * 4)
    write(tmp_path / STEMS[3], idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match="labels of shape"):
        load_idx_folder(tmp_path)


def test_find_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "_FASHION_MNIST_DIRS", (str(tmp_path / "a"),))
    monkeypatch.delenv("SKNUMPY_MLP_FASHION_MNIST", raising=False)
    assert find_fashion_mnist() is None

    (tmp_path / "a").mkdir()
    write_mnist_folder(tmp_path / "a")
    assert find_fashion_mnist() == tmp_path / "a"

    write_mnist_folder(tmp_path)
    monkeypatch.setenv("SKNUMPY_MLP_FASHION_MNIST", str(tmp_path))
    assert find_fashion_mnist() == tmp_path


def test_find_fashion_mnist_needs_all_four_files(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "_FASHION_MNIST_DIRS", (str(tmp_path),))
    monkeypatch.delenv("SKNUMPY_MLP_FASHION_MNIST", raising=False)
    write_mnist_folder(tmp_path)
    next(tmp_path.glob("t10k-images*")).unlink()
    assert find_fashion_mnist() is None


def test_real_fashion_mnist():
    folder = find_fashion_mnist()
    if folder is None:
        pytest.skip(
            "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"
        )
    X_train, y_train, X_test, y_test = load_idx_folder(folder)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and 0.0 <= X_train.min() < X_train.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 1000))


def test_load_digits_split():
    X_train, y_train, X_test, y_test = load_digits_split()

    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    # Stratified: each class's share of the test set matches the whole set.
    y_all = np.concatenate([y_train, y_test])
    expected = np.bincount(y_all) * len(y_test) / len(y_all)
    assert np.all(np.abs(np.bincount(y_test) - expected) <= 1)


def test_load_digits_split_is_seeded():
    first, again = load_digits_split(random_state=3), load_digits_split(random_state=3)
    other = load_digits_split(random_state=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_load_digits_split_test_size():
    _, y_train, _, y_test = load_digits_split(test_size=100)
    assert len(y_test) == 100 and len(y_train) == 1697


def test_load_openml_splits_without_network(monkeypatch):
    # fetch_openml is replaced, so this never touches the network.
    X = np.tile(np.array([0.0, 255.0]), (70000, 392))
    y = np.array([str(i % 10) for i in range(70000)], dtype=object)
    calls = []

    def fake_fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        return X, y

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_fetch_openml)
    X_train, y_train, X_test, y_test = load_openml("Fashion-MNIST", data_home="d")

    assert calls[0][0] == "Fashion-MNIST" and calls[0][1]["data_home"] == "d"
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.float32 and X_train.max() == 1.0
    assert y_train.dtype == np.int64 and y_test[:3].tolist() == [0, 1, 2]


def test_load_openml_rejects_other_names():
    with pytest.raises(ValueError, match="mnist_784"):
        load_openml("iris")
