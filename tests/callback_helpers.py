"""The callback the callback tests share (scikit-learn's protocol, ``sklearn.callback``)."""


class StopAt:
    """Asks to stop at the end of the ``n``-th training step; keeps what it was shown.

    A step is an ``"epoch"`` task (an ``"iteration"`` of L-BFGS), the leaves of the task
    tree whether they hang from the fit (MLP: fit -> epoch) or from an ensemble member
    (tabular: fit -> member -> epoch). ``fitted`` holds the estimator each step ended with.
    """

    steps = ("epoch", "iteration")

    def __init__(self, n):
        self.n, self.seen, self.fitted = n, 0, []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name not in self.steps:
            return False
        self.seen += 1
        self.fitted.append(fitted_estimator)
        return self.seen >= self.n
