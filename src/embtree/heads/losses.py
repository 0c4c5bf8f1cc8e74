"""The two losses of paper 002 (section 3), per head and symmetrised over the pair (x, x').

:func:`temi_loss` (eq. 1), :func:`update_prior` (eq. 1's cluster prior), :func:`scan_loss`
(eq. 2). Both are computed in log space (log-softmax + logsumexp): the same function as the
equations, with gradients that stay finite when a probability underflows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["temi_loss", "update_prior", "scan_loss"]


def update_prior(prior, teacher_probs, momentum):
    """TEMI's cluster prior EMA: ``q~ <- λ q~ + (1-λ) mean_{x in B} q_t(.|x)`` per head.

    prior : (H, C); teacher_probs : (H, n, C) (both views of the batch). Returns (H, C).
    """
    return momentum * prior + (1 - momentum) * teacher_probs.mean(dim=1)


def temi_loss(student_logits, teacher_logits, prior, *, beta=0.6, student_temp=0.1, teacher_temp=0.1):
    """TEMI loss (eq. 1) per head, symmetrised over the two views.

    Parameters
    ----------
    student_logits, teacher_logits : tensors of shape (H, 2, B, C)
        View 0 = x, view 1 = x' (its sampled neighbour).
    prior : tensor of shape (H, C), the teacher cluster prior q~_t (already updated).

    Returns
    -------
    tensor of shape (H,)
        ``0.5 * sum_{v != w} mean_b  w_b * -log sum_c (q_s^i(c|v) q_t^i(c|w))^beta / q~^i(c)``
        with ``w_b = (1/H) sum_j sum_c q_t^j(c|x) q_t^j(c|x')`` (no gradient).
    """
    log_s = F.log_softmax(student_logits / student_temp, dim=-1)
    with torch.no_grad():
        log_t = F.log_softmax(teacher_logits / teacher_temp, dim=-1)
        t = log_t.exp()
        weight = (t[:, 0] * t[:, 1]).sum(-1).mean(0)  # (B,) ensemble agreement
        log_prior = prior.log()[:, None, :]
    # Pair student view v with teacher view w = 1 - v.
    pmi = torch.logsumexp(beta * (log_s + log_t.flip(1)) - log_prior[:, None], dim=-1)  # (H, 2, B)
    return -(weight * pmi).mean(dim=-1).mean(dim=-1)


def scan_loss(student_logits, teacher_logits, *, alpha=5.0, student_temp=0.1, teacher_temp=0.1):
    """SCANv2 loss (eq. 2) per head, symmetrised over the two views.

    ``0.5 * sum_{v != w} mean_b -log sum_c q_t(c|w) q_s(c|v) + alpha * 0.5 * sum_v
    sum_c q^_s(c) log q^_s(c)`` with ``q^_s = mean_b q_s(.|v)`` (the batch estimate).
    Shapes as :func:`temi_loss`; returns (H,).
    """
    log_s = F.log_softmax(student_logits / student_temp, dim=-1)
    with torch.no_grad():
        log_t = F.log_softmax(teacher_logits / teacher_temp, dim=-1)
    consistency = -torch.logsumexp(log_s + log_t.flip(1), dim=-1).mean(dim=-1).mean(dim=-1)
    q_hat = log_s.exp().mean(dim=2)  # (H, 2, C)
    neg_entropy = (q_hat * q_hat.log()).sum(-1).mean(-1)
    return consistency + alpha * neg_entropy
