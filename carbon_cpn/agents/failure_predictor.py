"""The digital twin's failure predictor: an LSTM over a window of a component's telemetry that
gives the probability the component fails within a horizon (Algorithm 3 of "Carbon-Computing
Coupling Optimization and Green Scheduling System for Intelligent Computing Centers", Xie, Wei;
c3o: "Train LSTM-based failure prediction model on historical data", "Calculate risk scores",
"if risk_score > threshold: generate early warning"; Table 5's risk scores per component).

The historical data are simulated with :class:`carbon_cpn.envs.failures.FailureProcess` and
labelled from its known failure times: a window of ``window`` readings (one per interval of
``dt_h``) ending at time t, while the component is up, is positive when the component fails in
[t, t + horizon_h). One LSTM serves every component (its one-hot is an input beside the
signals, each normalized by its component's mean and std over the training telemetry). Training
keeps every positive and a random ``neg_per_pos`` negatives per positive; the logit is shifted
back by log(the negatives' keep rate), so that the risk is the probability under the simulated
base rate.

The baseline is a fixed threshold on the raw telemetry: the largest |normalized signal| held
for the last k readings of the window (k and the threshold tuned on the training windows: k for
PR-AUC, the threshold for F1); the plain largest |normalized signal| over the whole window is
reported beside it (it fires on every window that still shows a repair or a transient). Both
are scored by the precision-recall AUC (average precision) on all windows of held-out
histories (``benchmarks/failure_twin.py``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from carbon_cpn.atomic_io import atomic_path
from carbon_cpn.envs.config_checks import positive, require
from carbon_cpn.envs.failures import FailureConfig, FailureProcess


@dataclass(frozen=True)
class TwinSettings:
    """Window, horizon and training settings of the predictor."""

    dt_h: float = 0.25
    window: int = 16
    horizon_h: float = 2.0
    hidden: int = 32
    epochs: int = 6
    batch: int = 256
    lr: float = 3e-3
    neg_per_pos: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        for key in ("dt_h", "horizon_h", "lr"):
            positive(key, getattr(self, key))
        for key in ("window", "hidden", "epochs", "batch", "neg_per_pos"):
            v = getattr(self, key)
            require(isinstance(v, int) and v >= 1, key, v, "an integer >= 1")


@dataclass(frozen=True)
class Windows:
    """Telemetry windows x [M, window, signal] of ``component`` [M] at ``node`` [M], ending at
    reading ``end`` [M] (time (end + 1) * dt_h); ``y`` [M]: a failure within the horizon."""

    x: np.ndarray
    component: np.ndarray
    node: np.ndarray
    end: np.ndarray
    y: np.ndarray


def simulate_windows(config: FailureConfig, n_nodes: int, hours: float, settings: TwinSettings,
                     seed: int) -> Windows:
    """Every window (ending while its component is up) of ``n_nodes`` nodes over ``hours``
    simulated from ``np.random.default_rng(seed)``, labelled from the drawn failure times."""
    if not (isinstance(hours, (int, float)) and hours >= settings.window * settings.dt_h):
        raise ValueError(f"hours={hours!r}: expected at least window * dt_h = {settings.window * settings.dt_h}")
    proc = FailureProcess(config, n_nodes, np.random.default_rng(seed))
    n_steps = int(round(hours / settings.dt_h))
    tel = np.stack([proc.step(i * settings.dt_h, settings.dt_h).telemetry for i in range(n_steps)])
    t_read = (np.arange(n_steps) + 1) * settings.dt_h  # reading i is taken at the end of interval i
    sched = proc.schedule(t_read[-1] + settings.horizon_h)
    down = np.zeros(tel.shape[:3], dtype=bool)  # [T, N, C] down at the reading
    label = np.zeros(tel.shape[:3], dtype=bool)
    for n, c, f, e in zip(sched.node, sched.component, sched.fail_h, sched.repair_end_h):
        down[(t_read >= f) & (t_read < e), n, c] = True
        label[(f >= t_read) & (f < t_read + settings.horizon_h), n, c] = True
    w = settings.window
    end, node, comp = np.nonzero(~down[w - 1:])
    end = end + w - 1
    view = np.lib.stride_tricks.sliding_window_view(tel, w, axis=0)  # [T-w+1, N, C, S, w]
    x = view[end - w + 1, node, comp].transpose(0, 2, 1).astype(np.float32)
    return Windows(x=x, component=comp, node=node, end=end, y=label[end, node, comp])


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the precision-recall curve as a step function (sum over the distinct
    thresholds of (recall gain) x precision; tied scores form one threshold)."""
    scores, labels = np.asarray(scores, dtype=float).ravel(), np.asarray(labels, dtype=bool).ravel()
    if scores.shape != labels.shape or not labels.any():
        raise ValueError(f"labels: {int(labels.sum())} positives of {labels.size} for {scores.size} scores; "
                         "expected as many labels as scores and at least one positive")
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # last index of every distinct score
    tp = np.cumsum(y)[last]
    precision, recall = tp / (last + 1), tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]
    tp = np.cumsum(y)[last]
    f1 = 2 * tp / (last + 1 + y.sum())
    return float(s[last[int(np.argmax(f1))]])


class FailurePredictor(nn.Module):
    """LSTM risk model; ``mean``/``std`` [component, signal] normalize the raw telemetry."""

    def __init__(self, settings: TwinSettings, mean: np.ndarray, std: np.ndarray, logit_offset: float = 0.0) -> None:
        super().__init__()
        self.settings = settings
        n_comp, n_sig = mean.shape
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.register_buffer("logit_offset", torch.tensor(float(logit_offset)))
        self.lstm = nn.LSTM(n_sig + n_comp, settings.hidden, batch_first=True)
        self.head = nn.Linear(settings.hidden, 1)

    def forward(self, x: torch.Tensor, component: torch.Tensor) -> torch.Tensor:
        """Logits [B] (without the offset) of raw windows x [B, window, signal]."""
        z = (x - self.mean[component][:, None]) / self.std[component][:, None]
        onehot = nn.functional.one_hot(component, self.mean.shape[0]).to(z.dtype)
        out, _ = self.lstm(torch.cat([z, onehot[:, None].expand(-1, z.shape[1], -1)], dim=2))
        return self.head(out[:, -1]).squeeze(1)

    @torch.no_grad()
    def risk(self, x: np.ndarray, component: np.ndarray, batch: int = 8192) -> np.ndarray:
        """Failure probability within the horizon of windows x [M, window, signal]."""
        self.eval()
        x, component = np.asarray(x, dtype=np.float32), np.asarray(component, dtype=np.int64)
        out = []
        for i in range(0, len(x), batch):
            logit = self(torch.as_tensor(x[i:i + batch]), torch.as_tensor(component[i:i + batch]))
            out.append(torch.sigmoid(logit + self.logit_offset).numpy())
        return np.concatenate(out) if out else np.empty(0, dtype=np.float32)

    def predict_risk(self, window: np.ndarray) -> np.ndarray:
        """Risk [..., component] of raw telemetry [window, ..., component, signal] (the last
        ``window`` readings of :class:`FailureStep.telemetry`, oldest first)."""
        w = np.asarray(window, dtype=np.float32)
        n_comp, n_sig = self.mean.shape
        if w.ndim < 3 or w.shape[0] != self.settings.window or w.shape[-2:] != (n_comp, n_sig):
            raise ValueError(f"window: shape {w.shape}; expected ({self.settings.window}, ..., {n_comp}, {n_sig})")
        batch_shape = w.shape[1:-1]
        flat = np.moveaxis(w.reshape(w.shape[0], -1, n_sig), 0, 1)  # [B*C, window, signal]
        comp = np.tile(np.arange(n_comp), flat.shape[0] // n_comp)
        return self.risk(np.ascontiguousarray(flat), comp).reshape(batch_shape)


@dataclass(frozen=True)
class ThresholdBaseline:
    """A fixed threshold on the raw telemetry: the score of a window is the largest, over the
    signals, |normalized signal| held for the last ``persistence`` readings (its minimum over
    them; 1 = the last reading alone, a debounced alarm above). ``window_max`` scores the
    largest |normalized signal| anywhere in the window instead."""

    mean: np.ndarray
    std: np.ndarray
    persistence: int
    threshold: float

    def _z(self, x: np.ndarray, component: np.ndarray) -> np.ndarray:
        return np.abs((x - self.mean[component][:, None]) / self.std[component][:, None])

    def score(self, x: np.ndarray, component: np.ndarray) -> np.ndarray:
        return self._z(x, component)[:, -self.persistence:].min(axis=1).max(axis=1)

    def window_max(self, x: np.ndarray, component: np.ndarray) -> np.ndarray:
        return self._z(x, component).max(axis=(1, 2))

    def alarm(self, x: np.ndarray, component: np.ndarray) -> np.ndarray:
        return self.score(x, component) > self.threshold


def _norm_stats(train: Windows, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    last = train.x[:, -1, :]  # every reading of an up component appears as some window's last
    mean = np.stack([last[train.component == c].mean(axis=0) for c in range(n_components)])
    std = np.stack([last[train.component == c].std(axis=0) for c in range(n_components)])
    return mean, np.maximum(std, 1e-6)


def fit_baseline(train: Windows, n_components: int) -> ThresholdBaseline:
    """The threshold baseline tuned on ``train``: the persistence with the best PR-AUC, then
    the threshold with the best F1."""
    mean, std = _norm_stats(train, n_components)
    best = max((average_precision(ThresholdBaseline(mean, std, k, 0.0).score(train.x, train.component), train.y), -k)
               for k in range(1, train.x.shape[1] + 1))
    base = ThresholdBaseline(mean, std, -best[1], 0.0)
    return ThresholdBaseline(mean, std, base.persistence,
                             _best_f1_threshold(base.score(train.x, train.component), train.y))


def train_predictor(train: Windows, n_components: int, settings: TwinSettings) -> FailurePredictor:
    """Train the LSTM on every positive and ``neg_per_pos`` random negatives per positive."""
    if not train.y.any():
        raise ValueError("train: no positive window; expected histories long enough to hold failures")
    rng = np.random.default_rng(settings.seed)
    pos, neg = np.nonzero(train.y)[0], np.nonzero(~train.y)[0]
    n_neg = min(neg.size, settings.neg_per_pos * pos.size)
    keep = np.r_[pos, rng.choice(neg, size=n_neg, replace=False)]
    mean, std = _norm_stats(train, n_components)
    torch.manual_seed(settings.seed)
    model = FailurePredictor(settings, mean, std, logit_offset=math.log(n_neg / neg.size))
    x = torch.as_tensor(train.x[keep])
    comp = torch.as_tensor(train.component[keep])
    y = torch.as_tensor(train.y[keep], dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    gen = torch.Generator().manual_seed(settings.seed)
    model.train()
    for _ in range(settings.epochs):
        for idx in torch.randperm(len(keep), generator=gen).split(settings.batch):
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[idx], comp[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def save_predictor(model: FailurePredictor, path: str) -> None:
    """Write the model to ``path`` atomically (a temporary file, then os.replace)."""
    payload = {"settings": asdict(model.settings), "state": model.state_dict()}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_predictor(path: str) -> FailurePredictor:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    state = payload["state"]
    model = FailurePredictor(TwinSettings(**payload["settings"]), state["mean"].numpy(), state["std"].numpy())
    model.load_state_dict(state)
    model.eval()
    return model


def evaluate(model: FailurePredictor, baseline: ThresholdBaseline, test: Windows) -> dict[str, float]:
    """PR-AUC on ``test`` of the LSTM, the tuned threshold baseline and the plain window-max
    score, and precision/recall of the alarms (risk > 0.5; the baseline's tuned threshold)."""
    risk = model.risk(test.x, test.component)
    base = baseline.score(test.x, test.component)
    out = {"windows": float(test.y.size), "positives": float(test.y.sum()), "base_rate": float(test.y.mean()),
           "pr_auc_lstm": average_precision(risk, test.y), "pr_auc_threshold": average_precision(base, test.y),
           "pr_auc_window_max": average_precision(baseline.window_max(test.x, test.component), test.y)}
    for name, alarm in (("lstm", risk > 0.5), ("threshold", base > baseline.threshold)):
        tp = float((alarm & test.y).sum())
        out[f"precision_{name}"] = tp / max(float(alarm.sum()), 1.0)
        out[f"recall_{name}"] = tp / float(test.y.sum())
    return out


__all__ = ["FailurePredictor", "ThresholdBaseline", "TwinSettings", "Windows", "average_precision", "evaluate",
           "fit_baseline", "load_predictor", "save_predictor", "simulate_windows", "train_predictor"]
