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
depends on the number of threads it splits a product over). So a fit gives the same
model with or without callbacks (which train the members one after the other), in a
worker process of a search, or on a single core.

How many threads: as many as BLAS may use in this process (joblib's workers and
``threadpoolctl.threadpool_limits`` lower it; so does ``OPENBLAS_NUM_THREADS``), at
most the usable cores and the members.

The BLAS limit is the process's, as threadpoolctl's limits are: fits started at the same
time from several Python threads (a search on joblib's threading backend) set and
restore it in turn, so there a model may differ in the last bits between runs. Searches
on processes (joblib's default) are not affected.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import joblib
from sklearn import config_context, get_config
from threadpoolctl import ThreadpoolController

_controller = None  # made once, when first needed: NumPy's BLAS is loaded by then


def _blas():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.select(user_api="blas")


def available_threads():
    """Threads a fit may use: BLAS's thread count here, at most the usable cores."""
    allowed = [lib["num_threads"] for lib in _blas().info()]
    return max(1, min([joblib.cpu_count(), *allowed]))


def one_blas_thread():
    """A context in which BLAS runs on one thread (``with one_blas_thread(): ...``)."""
    return _blas().limit(limits=1)


def run_members(jobs, n_threads):
    """Run ``job(stop)`` for each of ``jobs``, ``n_threads`` at a time; their results.

    Parameters
    ----------
    jobs : list of callable
        Each takes a :class:`threading.Event`, set when another job failed or the
        caller was interrupted: a job should check it now and then (once an epoch) and
        return early when it is set.
    n_threads : int
        Jobs at once; 1 runs them in order in the calling thread.

    Returns
    -------
    list
        The jobs' results, in order. The first exception raised by a job (or a
        ``KeyboardInterrupt``) is raised after the running jobs have stopped.
    """
    stop = threading.Event()
    if len(jobs) == 1:  # a lone member uses BLAS as the process allows
        return [jobs[0](stop)]
    with one_blas_thread():
        if n_threads <= 1:
            return [job(stop) for job in jobs]
        config = get_config()  # scikit-learn's settings are per thread

        def run(job):
            with config_context(**config):
                return job(stop)

        with ThreadPoolExecutor(min(n_threads, len(jobs))) as pool:
            futures = [pool.submit(run, job) for job in jobs]
            try:
                return [future.result() for future in futures]
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
