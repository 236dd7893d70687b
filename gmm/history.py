"""The paper's EM derivation, recorded per iteration.

For any distribution ``q`` over the labels, Jensen's inequality gives

    log p(Y | theta) = ELBO(q, theta) + KL(q || p(Z | Y, theta)),
    ELBO(q, theta)   = E_q[log p(Y, Z | theta)] + H(q).

EM alternates two moves on the ELBO. The E-step sets ``q_t = p(Z | Y, theta_t)``, which makes the
KL term vanish; the M-step then raises ``E_q[log p(Y, Z | theta)]`` over ``theta`` with ``q_t``
held, giving ``theta_{t+1}``. :class:`EMHistory` records, for every iteration ``t``, each quantity
at the two points the argument uses them.

One caveat, measured: with ``reg_covar > 0`` the M-step maximises the expected complete-data
log-likelihood minus a small penalty ``(reg_covar / 2) N_k tr(Sigma_k^-1)``, not the ELBO itself,
so the ELBO and the log-likelihood may fall by about ``reg_covar`` nats per sample in an iteration
(worst seen: 4.9e-6 with reg_covar=1e-6 on a near-collapsed component; 3e-15, rounding only, with
reg_covar=0). Away from collapse the fall is far below ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class EMHistory:
    """Per-iteration record of a fit. Every array has shape (n_iter,).

    All values are averages per unit of sample weight (per pixel for images), so they compare
    with ``score``. Iteration ``t`` (0-based) starts from parameters ``theta_t`` (``theta_0`` is
    the initialisation) and ends with ``theta_{t+1}``; ``q_t`` is the posterior under ``theta_t``.

    After the E-step (scores ``theta_t`` with ``q_t``):

    Attributes
    ----------
    log_likelihood : mean ``log p(y | theta_t)``.
    expected_complete : mean ``E_{q_t}[log p(y, z | theta_t)]``.
    entropy : mean ``H(q_t)`` (the same at both points: ``q`` is held through the M-step).
    elbo : ``expected_complete + entropy``.
    kl : ``log_likelihood - elbo``; zero up to rounding, since ``q_t`` is the posterior.

    After the M-step (scores ``theta_{t+1}`` with the old ``q_t``):

    log_likelihood_m : mean ``log p(y | theta_{t+1})``; equals ``log_likelihood[t + 1]``.
    expected_complete_m : mean ``E_{q_t}[log p(y, z | theta_{t+1})]``, raised by the M-step.
    elbo_m : ``expected_complete_m + entropy`` (>= ``elbo``, up to the reg_covar caveat above).
    kl_m : ``log_likelihood_m - elbo_m`` (>= 0: ``q_t`` is no longer the posterior).
    """

    log_likelihood: np.ndarray
    expected_complete: np.ndarray
    entropy: np.ndarray
    elbo: np.ndarray
    kl: np.ndarray
    log_likelihood_m: np.ndarray
    expected_complete_m: np.ndarray
    elbo_m: np.ndarray
    kl_m: np.ndarray

    @property
    def n_iter(self) -> int:
        return self.log_likelihood.shape[0]

    def as_dict(self) -> dict[str, np.ndarray]:
        """The arrays by name (for tables and JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class HistoryRecorder:
    """Collects the ELBO terms while the estimator runs EM, one iteration per row.

    The estimator passes sums it already has: after each E-step the weighted log-likelihood, the
    expected complete log-likelihood and the entropy of the posterior (:func:`e_step_terms`, or
    the same sums accumulated by a fused kernel); after each M-step the expected complete
    log-likelihood under the new parameters with the *held* posterior, which the M-step gives in
    closed form (:func:`gmm._gaussian.expected_log_joint`). The next E-step's log-likelihood
    completes the row. All values are divided by the total sample weight.
    """

    def __init__(self, total_weight):
        self._total = float(total_weight)
        self._rows: list[dict[str, float]] = []

    def record_e_step(self, log_likelihood_sum, expected_sum, entropy_sum):
        """Start a row with the E-step's sums; they also close the previous row."""
        log_likelihood = log_likelihood_sum / self._total
        self.close(log_likelihood)
        expected, entropy = expected_sum / self._total, entropy_sum / self._total
        elbo = expected + entropy
        self._rows.append({"log_likelihood": log_likelihood, "expected_complete": expected, "entropy": entropy,
                           "elbo": elbo, "kl": log_likelihood - elbo})

    def record_m_step(self, expected_sum):
        """The M-step's ``sum_n w_n E_q[log p(y_n, z_n | theta_{t+1})]`` with ``q`` held."""
        row = self._rows[-1]
        row["expected_complete_m"] = expected_sum / self._total
        row["elbo_m"] = row["expected_complete_m"] + row["entropy"]

    def close(self, log_likelihood):
        """Give the last row its after-M-step log-likelihood (the next E-step's)."""
        if self._rows and "log_likelihood_m" not in self._rows[-1]:
            row = self._rows[-1]
            row["log_likelihood_m"] = float(log_likelihood)
            row["kl_m"] = row["log_likelihood_m"] - row.get("elbo_m", np.nan)

    def finish(self) -> EMHistory:
        names = [f.name for f in fields(EMHistory)]
        columns = {name: np.array([row.get(name, np.nan) for row in self._rows]) for name in names}
        return EMHistory(**columns)


def e_step_terms(log_joint_prob, log_prob_norm, weighted_resp, log_resp, sample_weight):
    """Weighted sums of one E-step: log-likelihood, expected complete log-likelihood, entropy.

    Parameters
    ----------
    log_joint_prob, log_resp : ndarray of shape (n_components, n_samples)
    log_prob_norm : ndarray of shape (n_samples,)
    weighted_resp : ndarray of shape (n_components, n_samples)
        The posterior times the sample weights.
    sample_weight : ndarray of shape (n_samples,) or None

    A vanished responsibility contributes nothing: ``0 * log 0 = 0`` and ``0 * log(pi_k N) = 0``
    even where ``pi_k = 0`` makes the log joint ``-inf`` (both clipped before the product).
    """
    lowest = np.finfo(np.float64).min
    log_likelihood = float(np.sum(log_prob_norm) if sample_weight is None else sample_weight @ log_prob_norm)
    q = weighted_resp.ravel()
    expected = float(q @ np.maximum(log_joint_prob, lowest).ravel())
    entropy = -float(q @ np.maximum(log_resp, lowest).ravel())
    return log_likelihood, expected, entropy


def history_summary(history: EMHistory) -> dict:
    """The checks of the paper's EM argument on one fit's history.

    Returns
    -------
    dict with
    n_iter : iterations run.
    final_log_likelihood : mean log-likelihood after the last E-step.
    max_abs_kl_e_step : ``max |KL|`` right after an E-step (zero up to rounding).
    min_kl_m_step : smallest KL gap after an M-step (>= 0 up to rounding).
    min_m_step_gain : smallest ELBO rise of an M-step, ``elbo_m - elbo`` (>= 0).
    min_log_likelihood_step : smallest change of the log-likelihood between iterations
        (>= 0 when monotone; ``inf`` for a single iteration).
    monotone : whether no step lowered the log-likelihood by more than rounding (1e-10).
    """
    ll = np.asarray(history.log_likelihood, dtype=np.float64)
    steps = np.diff(ll)
    min_step = float(steps.min()) if steps.size else float("inf")
    return {
        "n_iter": int(history.n_iter),
        "final_log_likelihood": float(ll[-1]),
        "max_abs_kl_e_step": float(np.nanmax(np.abs(history.kl))),
        "min_kl_m_step": float(np.nanmin(history.kl_m)),
        "min_m_step_gain": float(np.nanmin(np.asarray(history.elbo_m) - np.asarray(history.elbo))),
        "min_log_likelihood_step": min_step,
        "monotone": bool(min_step >= -1e-10),
    }
