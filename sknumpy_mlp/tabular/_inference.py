"""Predicting with an ensemble: rows in cache-sized chunks, members on threads.

A tabular model is a few small networks (about five of 3 x 256 units) over a table of a
few hundred to a few thousand rows. Two things make that slower than its multiply-adds:

- a layer's output for all rows at once (a 4,000 x 256 float32 array is 4 MiB) leaves
  the cache between one elementwise pass and the next; in chunks of ``CHUNK_ROWS`` rows
  every intermediate stays in L2;
- a fresh array per layer and chunk costs page faults (large arrays come from the
  system each time, and 2 MiB of them cost as much as the periodic embedding's math):
  each thread keeps one set of buffers (a :class:`~sknumpy_mlp._network.Workspace`)
  for all its chunks and members;
- the elementwise passes (cosines, activations) run on one core while the matrix
  products use all of them. The members and chunks are independent, so ``n`` threads
  each take whole ``(member, chunk)`` jobs with one BLAS thread each: NumPy releases the
  GIL inside every array operation, and all the work is spread over the cores.

``n`` is the number of threads the BLAS library may use now (all cores by default,
what ``threadpoolctl.threadpool_limits`` allows inside such a block), as
``HistGradientBoostingClassifier`` uses OpenMP's. Each row is computed on its own,
whatever its chunk or thread, so a prediction does not depend on the rows predicted
with it (up to the float64 rounding of the output layer, see :func:`predict_member`).
"""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._layers import Pass
from .._training import _blas_controller

#: Rows per chunk: a 256-wide float32 layer output of 512 rows is 512 KiB.
CHUNK_ROWS = 512
#: Below this many rows x members, threads cost more than they save.
MIN_THREADED_ROWS = 256


def predict_member(net, Z, ws=None):
    """One member's outputs for ``Z``; the output layer in float64.

    Every layer but the last computes each row on its own, bit for bit whatever the
    batch; the last one's narrow product (BLAS gemv) rounds by batch shape, so it runs
    in float64, where that is a last-bit difference (about 1e-16) instead of float32's
    1e-7. ``ws``: buffers of at least ``len(Z)`` rows for ``net``'s layers, or None
    (each layer allocates its output). Inference mode either way (``Pass()``: dropout is
    the identity).
    """
    slots = [None] * len(net.layers) if ws is None else ws.slots
    with np.errstate(over="ignore", invalid="ignore"):  # per thread: set it here
        ctx, x = Pass(), Z
        for layer, slot in zip(net.layers[:-1], slots):
            x = layer.forward(x, slot, ctx)
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
    n_threads = min(_blas_threads(), len(networks) * -(-n // CHUNK_ROWS))
    threaded = n_threads >= 2 and n * len(networks) >= MIN_THREADED_ROWS
    n_chunks = -(-n // CHUNK_ROWS)
    if threaded:  # as many jobs on each thread: 5 members on 2 threads in 10 half-chunks
        while len(networks) * n_chunks % n_threads and n_chunks < n:
            n_chunks += 1
    chunks = _chunks(n, -(-n // n_chunks))
    rows = chunks[0].stop
    jobs = [(net, Z[s]) for net in networks for s in chunks]
    buffers = _Buffers(rows)
    if threaded:
        with _one_blas_thread(), ThreadPoolExecutor(n_threads) as pool:
            parts = list(pool.map(buffers.predict, jobs))
    else:
        parts = [buffers.predict(job) for job in jobs]
    k = len(chunks)
    outputs = [_stacked(parts[i:i + k]) for i in range(0, len(parts), k)]
    return np.mean(outputs, axis=0) if len(outputs) > 1 else outputs[0]


class _Buffers(threading.local):
    """One :class:`Workspace` of ``rows`` rows per thread, for one prediction call.

    The members of an ensemble have the same layers (same shapes): one set of buffers
    serves them all; a member with other layers gets its own.
    """

    def __init__(self, rows):
        self.rows, self.ws, self.layers = rows, None, None

    def predict(self, job):
        net, x = job
        layers = [(type(layer), layer.config()) for layer in net.layers]
        if layers != self.layers:
            self.ws, self.layers = net.workspace(self.rows), layers
        return predict_member(net, x, self.ws)


def _chunks(n, rows):
    return [slice(i, min(i + rows, n)) for i in range(0, n, rows)]


def _stacked(parts):
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _blas_threads():
    """The most threads any loaded BLAS library may use now (1 if none is found)."""
    blas = _blas_controller().select(user_api="blas").lib_controllers
    return max((lib.num_threads for lib in blas), default=1)


_lock = threading.Lock()
_users = 0
_limit = None


@contextlib.contextmanager
def _one_blas_thread():
    """One BLAS thread while any prediction runs threads; the old limit afterwards.

    The limit is process-wide: with two predictions at once (a web server), the first
    sets it and the last one out restores it, so neither leaves BLAS at one thread.
    """
    global _users, _limit
    with _lock:
        if _users == 0:
            _limit = _blas_controller().limit(limits=1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _limit.restore_original_limits()
                _limit = None
