"""When to stop: scikit-learn's patience rule, and its ``"adaptive"`` learning rate.

Both are handlers of the training loop's events (:mod:`._events`). In scikit-learn
the adaptive rate lives inside the stopping rule; here the rule only announces that
its patience ran out (``patience_out``), and :class:`Plateau`, when the fit has one,
answers by dividing the rate by 5 instead of letting training stop.
"""

from ._events import Handler, PatienceOut


class StoppingRule(Handler):
    """scikit-learn's rule: stop after ``n_iter_no_change`` epochs without a ``tol`` gain.

    The monitored quantity is the validation score (the head's: accuracy or R^2) when
    early stopping is on and the training loss otherwise. Sets ``run.improved`` when
    the latest epoch is the best so far, for :class:`~._handlers.BestWeights`.

    One refinement over scikit-learn: with early stopping, ties in validation accuracy
    are broken by the validation loss. Accuracy is coarse on a small hold-out and often
    saturates in the first epochs; scikit-learn then stops and restores those barely
    trained weights, while here training goes on as long as the held-out loss still
    falls by more than ``tol``. ``break_ties=False`` is scikit-learn's rule exactly; the
    estimator uses it for a target of a single class, whose accuracy is always 1 and
    whose loss only measures how far the output has saturated, which changes no
    prediction.
    """

    def __init__(self, tol, n_iter_no_change, break_ties=True):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.break_ties = break_ties

    def epoch_end(self, run):
        """Count the epoch; when patience runs out, stop, unless a handler carries on."""
        history = run.history
        run.improved = self.update(history)
        if not self.exhausted(history):
            return False
        what = "Validation score" if run.validation is not None else "Training loss"
        notice = PatienceOut(f"{what} did not improve more than tol={self.tol:f} for "
                             f"{self.n_iter_no_change} consecutive epochs.")
        run.events.emit("patience_out", run, notice)
        if notice.carry_on:
            history.no_improvement_count = 0
            return False
        run.say(f"{notice.message}{notice.reason} Stopping.")
        return True

    def update(self, history):
        """Update ``history`` counters after an epoch; return True if this epoch is best."""
        if history.early_stopping:
            score, loss = history.validation_scores[-1], history.validation_losses[-1]
            best_score = history.best_validation_score
            best_loss = history.best_validation_loss
            tie_won = self.break_ties and score >= best_score and loss < best_loss
            worse = score < best_score + self.tol and not (
                tie_won and loss < best_loss - self.tol)
            best = score > best_score or (score == best_score and tie_won)
            if best:
                history.best_validation_score = score
                history.best_validation_loss = loss
        else:
            loss = history.loss_curve[-1]
            worse = loss > history.best_loss - self.tol
            best = loss < history.best_loss
            if best:
                history.best_loss = loss
        history.no_improvement_count = history.no_improvement_count + 1 if worse else 0
        return best

    def exhausted(self, history):
        """Whether the patience has run out."""
        return history.no_improvement_count > self.n_iter_no_change


class Plateau(Handler):
    """scikit-learn's ``"adaptive"`` rate: when patience runs out, divide it by 5.

    Below 1e-6 the rate is "too small" and training stops. Its state is the
    :class:`~._schedules.LearningRate` it lowers (kept by the estimator across calls).
    """

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    @staticmethod
    def applies(learning_rate):
        """Whether ``learning_rate`` has the rule (``"adaptive"``, for sgd only)."""
        return learning_rate.has_plateau_rule

    def patience_out(self, run, notice):
        if self.learning_rate.reduce_on_plateau():
            run.say(f"{notice.message} Setting learning rate to "
                    f"{self.learning_rate.base:f}")
            notice.carry_on = True
        else:
            notice.reason = " Learning rate too small."
