"""Group commit: one durable write for what several threads need written at once.

A photo upload is answered only once its file's folder entry and its database row are
on disk, which costs a few fsyncs. When several uploads reach that point together (a
tablet sends several photos at a time, or several devices sync), one thread writes all
of them in one go and the others wait for that write: the fsyncs are shared, and no
caller returns before its own item is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupWriteFailed(Exception):
    """The write that included this caller's item failed (in another thread; chained)."""


class _Entry(Generic[T]):
    __slots__ = ("done", "error", "item", "wrote")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.wrote = False  # this caller's own thread ran the write
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Hands the items of concurrent callers to ``write`` together.

    :meth:`submit` returns once a call of ``write`` that included its item has returned,
    or raises what that call raised. While one ``write`` runs, the items that arrive
    wait and then go together in the next one; a caller never waits for more than the
    write in progress and its own.
    """

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._condition = threading.Condition()
        self._queue: list[_Entry[T]] = []
        self._writing = False

    def submit(self, item: T) -> None:
        entry = _Entry(item)
        with self._condition:
            self._queue.append(entry)
            while not entry.done:
                if self._writing:
                    self._condition.wait()
                    continue
                # Nobody is writing: this thread writes everything queued, its own too.
                self._writing = True
                entry.wrote = True
                group, self._queue = self._queue, []
                error: BaseException | None = None
                self._condition.release()
                try:
                    self._write([queued.item for queued in group])
                except BaseException as exc:  # each caller of the group gets it
                    error = exc
                finally:
                    self._condition.acquire()
                    self._writing = False
                    for queued in group:
                        queued.done, queued.error = True, error
                    self._condition.notify_all()
        if entry.error is not None:
            if entry.wrote:
                raise entry.error
            raise GroupWriteFailed("the write of a group of items failed") from entry.error
