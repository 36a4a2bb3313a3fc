"""The observation as a table of named blocks: layout, docstring table and values from one place.

Each :class:`ObsBlock` lists its fields with their meaning; a block may repeat a group of
fields per node or per battery. :class:`ObsLayout` turns the table into offsets for a
scenario's counts (``env.unwrapped.obs_layout``), writes the docstring table, and gives the
index of every field, so the env fills the vector by name. The scale constants below are the
only normalization literals. tsco is "A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and
Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Every entry is clipped to [-OBS_CLIP, OBS_CLIP] (an LMP at the value of lost load would
#: otherwise read 50).
OBS_CLIP = 10.0
RUN_TIME_SCALE_H = 8.0  # run times and critical paths
DEADLINE_SCALE_H = 24.0  # times to deadline
SLACK_RATIO_SCALE = 10.0  # (time left / run time)
QUEUE_RATIO_CAP = 4.0  # servers asked / free, ready count / queue capacity
LMP_SCALE_USD_PER_MWH = 100.0
MCI_SCALE_KG_PER_MWH = 1000.0


@dataclass(frozen=True)
class ObsBlock:
    """A named block: ``fields`` once, then ``per_item`` once per item of ``items``
    (``"node"``, ``"battery"`` or None). Each field is ``(name, meaning)``."""

    name: str
    fields: tuple[tuple[str, str], ...] = ()
    per_item: tuple[tuple[str, str], ...] = ()
    items: str | None = None

    def size(self, counts: dict[str, int]) -> int:
        n = counts[self.items] if self.items else 0
        return len(self.fields) + len(self.per_item) * n

    def size_text(self) -> str:
        parts = [str(len(self.fields))] if self.fields else []
        if self.items:
            sym = {"node": "N", "battery": "B"}.get(self.items, self.items)
            parts.append(f"{len(self.per_item)} x {sym}" if len(self.per_item) > 1 else sym)
        return " + ".join(parts)

    def meaning(self) -> str:
        text = "; ".join(m for _, m in self.fields)
        if self.items:
            per = "; ".join(m for _, m in self.per_item)
            text = (text + "; " if text else "") + f"per {self.items}: {per}"
        return text


#: The CarbonCPN observation (tsco §IV.B's state: task, queue, node and grid features).
CPN_BLOCKS: tuple[ObsBlock, ...] = (
    ObsBlock("head_task", fields=(
        ("present", "present"), ("prefers_gpu", "prefers GPU"), ("units", "units / max units of its type"),
        ("run_time", f"run time / {RUN_TIME_SCALE_H:g} h"), ("deadline", f"time to deadline / {DEADLINE_SCALE_H:g} h"),
        ("slack", f"slack ratio (time left / run time) / {SLACK_RATIO_SCALE:g}"), ("high_qos", "high QoS"),
        ("tasks_left", "sub-tasks left in its job / max_subtasks"),
        ("critical_path", f"job critical path / {RUN_TIME_SCALE_H:g} h"))),
    ObsBlock("queue", fields=(
        ("ready", "ready sub-tasks / queue_capacity"), ("cpu_asked", "CPU servers asked / free CPU"),
        ("gpu_asked", "GPU servers asked / free GPU"), ("nearest_deadline", f"nearest deadline / {DEADLINE_SCALE_H:g} h"))),
    ObsBlock("nodes", items="node", per_item=(
        ("free_cpu", "free CPU share"), ("free_gpu", "free GPU share"), ("fits_cpu", "head task fits (CPU)"),
        ("fits_gpu", "head task fits (GPU)"), ("power", "last interval's power / peak"),
        ("lmp", f"LMP / {LMP_SCALE_USD_PER_MWH:g} $/MWh"), ("mci", f"MCI / {MCI_SCALE_KG_PER_MWH:g} kg/MWh"))),
    ObsBlock("grid", items="battery", fields=(
        ("renewables", "renewable availability of the coming interval / capacity"),
        ("curtailment", "last interval's curtailment / capacity"), ("base_load", "last interval's base load / case load"),
        ("renewable_share", "share of demand met by renewables")),
        per_item=(("soc", "SOC (fraction)"),)),
    ObsBlock("time", fields=(("sin_hour", "sin of the hour of day"), ("cos_hour", "cos of the hour of day"),
                             ("progress", "episode progress"))),
)


class ObsLayout:
    """Offsets of ``blocks`` for the item ``counts`` (e.g. ``{"node": 5, "battery": 4}``)."""

    def __init__(self, blocks: tuple[ObsBlock, ...], counts: dict[str, int]) -> None:
        self.blocks = blocks
        self.counts = dict(counts)
        self.entries: list[tuple[str, int, int, str]] = []
        self._block_start: dict[str, int] = {}
        start = 0
        for b in blocks:
            size = b.size(self.counts)
            self.entries.append((b.name, start, size, b.meaning()))
            self._block_start[b.name] = start
            start += size
        self.dim = start
        self._by_name = {b.name: b for b in blocks}

    def block(self, name: str) -> slice:
        """The slice of block ``name``."""
        b = self._by_name[name]
        s = self._block_start[name]
        return slice(s, s + b.size(self.counts))

    def field(self, block: str, name: str) -> int:
        """The index of a once-per-block field."""
        b = self._by_name[block]
        names = [f for f, _ in b.fields]
        if name not in names:
            raise KeyError(f"field={name!r}: block {block!r} has {names}")
        return self._block_start[block] + names.index(name)

    def items(self, block: str) -> slice:
        """The slice of the per-item part of ``block`` (reshape to ``[items, len(per_item)]``)."""
        b = self._by_name[block]
        s = self._block_start[block] + len(b.fields)
        return slice(s, s + len(b.per_item) * self.counts[b.items or ""])

    def item_column(self, block: str, name: str) -> int:
        """The column of per-item field ``name`` in ``items(block)`` reshaped per item."""
        names = [f for f, _ in self._by_name[block].per_item]
        if name not in names:
            raise KeyError(f"field={name!r}: block {block!r} has per-item fields {names}")
        return names.index(name)

    def names(self) -> list[str]:
        """One name per entry, ``block.field`` or ``block.field[item]``."""
        out = []
        for b in self.blocks:
            out += [f"{b.name}.{f}" for f, _ in b.fields]
            if b.items:
                out += [f"{b.name}.{f}[{k}]" for k in range(self.counts[b.items]) for f, _ in b.per_item]
        return out


def layout_table(blocks: tuple[ObsBlock, ...]) -> str:
    """The reStructuredText table of ``blocks`` (the env docstring's observation table)."""
    rows = [(b.name, b.size_text(), b.meaning()) for b in blocks]
    w0 = max(len("block"), *(len(r[0]) for r in rows))
    w1 = max(len("size"), *(len(r[1]) for r in rows))
    w2 = max(len("contents (normalization)"), *(len(r[2]) for r in rows))
    rule = f"{'=' * w0}  {'=' * w1}  {'=' * w2}"
    lines = [rule, f"{'block':<{w0}}  {'size':<{w1}}  {'contents (normalization)':<{w2}}", rule]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
    lines.append(rule)
    return "\n".join(lines)


def clip(o: np.ndarray) -> np.ndarray:
    return np.clip(o, -OBS_CLIP, OBS_CLIP, out=o)


__all__ = ["CPN_BLOCKS", "DEADLINE_SCALE_H", "LMP_SCALE_USD_PER_MWH", "MCI_SCALE_KG_PER_MWH", "OBS_CLIP", "ObsBlock",
           "ObsLayout", "QUEUE_RATIO_CAP", "RUN_TIME_SCALE_H", "SLACK_RATIO_SCALE", "clip", "layout_table"]
