"""Event tables: what the engine adds to which state, and when.

A subject's events are a numpy structured array of EVENT records (time, state index, amount) in time order;
a batch's are a 2-d array of them, one row per subject, padded, with each row's count. Subjects of one batch
may have different events (their own amounts, their own times).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EVENT = np.dtype([("time", np.float64), ("state", np.int64), ("amount", np.float64)])  # also the kernels' (codegen)


@dataclass(frozen=True)
class Events:
    """One subject's events, in time order (events at one time keep their given order)."""

    table: np.ndarray  # EVENT records, shape (E,)

    @classmethod
    def of(cls, time: Sequence[float] | np.ndarray, state: Sequence[int] | np.ndarray,
           amount: Sequence[float] | np.ndarray) -> Events:
        time, state, amount = (np.asarray(x) for x in (time, state, amount))
        if not time.shape == state.shape == amount.shape or time.ndim != 1:
            raise ValueError("time, state and amount must be 1-d and of one length")
        order = np.argsort(time, kind="stable")
        table = np.empty(time.size, dtype=EVENT)
        table["time"], table["state"], table["amount"] = time[order], state[order], amount[order]
        return cls(table)

    @classmethod
    def none(cls) -> Events:
        return cls(np.empty(0, dtype=EVENT))

    def __len__(self) -> int:
        return int(self.table.size)

    @property
    def time(self) -> np.ndarray:
        return self.table["time"]

    @property
    def state(self) -> np.ndarray:
        return self.table["state"]

    @property
    def amount(self) -> np.ndarray:
        return self.table["amount"]


@dataclass(frozen=True)
class EventBatch:
    """Events of many subjects: table (S, E) padded after each row's count."""

    table: np.ndarray  # EVENT records, shape (S, E)
    count: np.ndarray  # (S,) int64

    @classmethod
    def stack(cls, events: Sequence[Events]) -> EventBatch:
        width = max((len(e) for e in events), default=0)
        table = np.zeros((len(events), width), dtype=EVENT)
        for s, e in enumerate(events):
            table[s, : len(e)] = e.table
        return cls(table, np.array([len(e) for e in events], dtype=np.int64))

    @classmethod
    def repeat(cls, events: Events, n: int) -> EventBatch:
        """The same events for n subjects."""
        return cls(np.tile(events.table, (n, 1)), np.full(n, len(events), dtype=np.int64))

    @classmethod
    def scaled(cls, events: Events, factors: np.ndarray) -> EventBatch:
        """The same times and states for every subject, amounts times factors (S, E): each subject's own amounts."""
        table = np.tile(events.table, (factors.shape[0], 1))
        table["amount"] *= factors
        return cls(table, np.full(factors.shape[0], len(events), dtype=np.int64))

    def __len__(self) -> int:
        return int(self.table.shape[0])

    def subset(self, rows: np.ndarray) -> EventBatch:
        return EventBatch(self.table[rows], self.count[rows])
