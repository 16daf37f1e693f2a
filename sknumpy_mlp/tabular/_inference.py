"""Predicting with an ensemble: rows in chunks whose arrays stay in the cache.

A tabular model is a few small networks (about five of 3 x 256 units) over a table of a
few hundred to a few thousand rows. All rows at once, a layer's arrays leave the cache
between one elementwise pass and the next, and arrays above about a mebibyte come from
the system fresh each time (page faults: the periodic embedding's ``(features x 16)``
cosines per row are 3.6 KiB on spam, 10 KiB on musk). So each member runs on chunks of
rows whose largest array is at most ``CHUNK_BYTES`` (:func:`chunk_rows`): the same memory
is reused from chunk to chunk while it is hot. Measured (medians of 60, five members, one
run each): musk's 119 test rows take 10.6-11.8 ms in chunks of 48-80 rows (cosines
0.5-0.85 MiB) and 17-18 ms in chunks of 98 or more (1.04 MiB and up); spam's 1151 rows
40-43 ms in chunks of 192-512 rows (0.7-1.8 MiB: for spam's narrower rows the cliff comes
later) and 61 ms in one.

Tried and left out: one preallocated set of buffers for all chunks (a
:class:`~sknumpy_mlp._network.Workspace`: more distinct memory, so more cache misses;
slower but on musk), and members on threads with one BLAS thread each (1.5x faster on
spam when nothing else ran, slower whenever a multi-threaded BLAS call came just before,
as OpenBLAS's idle workers spin for a while on a core, or when HGB's OpenMP threads
shared the cores).
"""

import numpy as np

from .._layers import Pass

#: The largest array of a chunk (bytes): below the measured cliff at about 1 MiB.
CHUNK_BYTES = 3 << 18  # 768 KiB
#: Rows per chunk at most, and at least.
MAX_CHUNK_ROWS, MIN_CHUNK_ROWS = 512, 16


def predict_member(net, Z):
    """One member's outputs for ``Z``; the output layer in float64.

    A row's prediction can depend on the rows predicted with it only through rounding:
    BLAS picks its kernels by shape (gemv for one row, other gemm kernels for a few
    rows than for many), so a float32 layer's output may differ in the last bits
    (about 1e-7 relative) between batch sizes; the elementwise layers are exact per
    row. The output layer's narrow product runs in float64, where such a difference
    is about 1e-16. Inference mode (``Pass()``: dropout is the identity, no buffers
    kept).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        ctx, x = Pass(), Z
        for layer in net.layers[:-1]:
            x = layer.forward(x, None, ctx)
        last = net.layers[-1]
        z = np.dot(x.astype(np.float64), last.coef.astype(np.float64))
        z += last.intercept
        return net.head.predict(z)


def predict_ensemble(networks, Z):
    """The mean of the members' outputs for ``Z`` (one member: its outputs).

    Parameters
    ----------
    networks : list of Network
        The fitted members.
    Z : ndarray of shape (n_samples, n_features)
        Preprocessed rows.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), float64
    """
    n = Z.shape[0]
    # The members have the same layers; the chunk size only decides speed.
    n_chunks = -(-n // chunk_rows(networks[0]))
    # Equal chunks (sizes differ by at most one): never a lone last row.
    bounds = [n * i // n_chunks for i in range(n_chunks + 1)]
    outputs = []
    for net in networks:
        parts = [predict_member(net, Z[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        outputs.append(parts[0] if len(parts) == 1 else np.concatenate(parts))
    return np.mean(outputs, axis=0) if len(outputs) > 1 else outputs[0]


def chunk_rows(net):
    """Rows per chunk for ``net``: ``CHUNK_BYTES`` over its largest array per row.

    The layers' own ``buffers(1, empty)`` (the protocol's allocation call) make one
    row's arrays; the largest decides. Clamped to ``[MIN_CHUNK_ROWS, MAX_CHUNK_ROWS]``
    (so beyond 768 numeric features a chunk's cosines exceed ``CHUNK_BYTES``).
    """
    def empty(shape, dtype=None):
        return np.empty(shape, dtype or net.dtype)

    arrays = [value for layer in net.layers
              for value in vars(layer.buffers(1, empty)).values()
              if isinstance(value, np.ndarray)]
    widest = max((a.nbytes for a in arrays), default=0)
    return int(min(MAX_CHUNK_ROWS, max(MIN_CHUNK_ROWS, CHUNK_BYTES // max(widest, 1))))
