"""The members of an ensemble on threads, each with one BLAS thread.

A member's training step is a few matrix products of 256 x 256 and, between them,
elementwise passes (the periodic embedding's cosines, the activations, dropout) that
NumPy runs on one core. With two cores, BLAS spreads the products over both but the
elementwise half leaves one core idle, and products this small gain little from a
second thread anyway. The members are independent, so they train side by side instead:
one thread each, BLAS limited to one thread while they run. Measured on two cores
(spam and LetterRecognition, two members): 0.60-0.67 of the time of one after the
other.

A member's result does not depend on which thread trains it or how many run: each
draws from its own random stream (seeded from the estimator's ``random_state``), and
BLAS runs on one thread whether the members share the cores or not (its rounding
depends on the number of threads it splits a product over). So an ensemble is the same
with or without callbacks, in a worker process of a search, or on a single core. A
lone member (large tables) runs BLAS as the process allows, so its last bits follow the
number of BLAS threads.

How many threads: as many as BLAS may use in this process (joblib's workers and
``threadpoolctl.threadpool_limits`` lower it; so does ``OPENBLAS_NUM_THREADS``), at
most the usable cores and the members; one when threadpoolctl sees no BLAS (it cannot
limit it then) or when the fit itself runs outside the main thread (a search on
joblib's threading backend already keeps the cores busy).

OpenBLAS's thread count is the process's: fits running at the same time in several
Python threads, setting and restoring it in turn, would leave it wrong (threadpoolctl
3.8 lets only one thread set it). So only a fit in the main thread limits it; a fit in
another thread trains its members one after the other with BLAS as it is, and its last
bits may then differ from the same fit's in the main thread. MKL and OpenMP builds
limit per thread, so each member's thread sets its own limit too.
"""

import contextvars
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import nullcontext

import joblib
from sklearn import config_context, get_config
from threadpoolctl import ThreadpoolController


def _blas():
    # Made anew each time (half a millisecond, once a fit): SciPy's own BLAS, in wheel
    # installs, may have been loaded since the last fit.
    return ThreadpoolController().select(user_api="blas")


def available_threads():
    """Threads a fit may use: BLAS's thread count here, at most the usable cores."""
    allowed = [lib["num_threads"] for lib in _blas().info()]
    if not allowed or not _in_main_thread():
        return 1
    return max(1, min([joblib.cpu_count(), *allowed]))


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


def members_blas(n_members):
    """The BLAS threads ``n_members`` members train with (``with members_blas(n): ...``).

    One for an ensemble, so each member rounds the same whichever way they run; a lone
    member uses BLAS as the process allows. Only a fit in the main thread limits BLAS
    (see the module docstring): the limit is the process's, and threads that set and
    restore it in turn would leave it wrong.
    """
    if n_members == 1 or not _in_main_thread():
        return nullcontext()
    return _blas().limit(limits=1)


def run_members(jobs, n_threads):
    """Run ``job(stop)`` for each of ``jobs``, ``n_threads`` at a time; their results.

    Parameters
    ----------
    jobs : list of callable
        Each takes a :class:`threading.Event`, set as soon as a job fails or the
        caller is interrupted: a job should check it now and then (once an epoch) and
        return early when it is set.
    n_threads : int
        Jobs at once; 1 runs them in order in the calling thread.

    Returns
    -------
    list
        The jobs' results, in order. The first exception raised by a job (or a
        ``KeyboardInterrupt``) is raised once the running jobs have stopped; jobs not
        started by then never start.
    """
    stop = threading.Event()
    with members_blas(len(jobs)):
        if n_threads <= 1 or len(jobs) == 1:
            return [job(stop) for job in jobs]
        config = get_config()  # scikit-learn's settings are per thread

        def run(job):
            if stop.is_set():  # a job failed before this one's turn
                return None
            try:
                # MKL and OpenMP builds limit per thread: this one's too.
                with config_context(**config), _blas().limit(limits=1):
                    return job(stop)
            except BaseException:
                stop.set()  # the others stop at their next check
                raise

        with ThreadPoolExecutor(min(n_threads, len(jobs))) as pool:
            # NumPy's errstate and other context variables, as the caller has them
            futures = [pool.submit(contextvars.copy_context().run, run, job)
                       for job in jobs]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
                return [future.result() for future in futures]
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
