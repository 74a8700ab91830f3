"""A thin epoll: file descriptor -> callback, with the part of selectors' API the
DNS loop uses (register / modify / unregister with EVENT_READ and EVENT_WRITE).

selectors.EpollSelector builds a SelectorKey per registration and a list of
(key, events) per select; at tens of thousands of registrations a second (one
fresh upstream socket per forwarded query) that bookkeeping shows in profiles,
so the loop polls epoll itself and looks the callback up per event.

A callback can be handed an event meant for a socket closed earlier in the same
batch whose descriptor number was reused: handlers must tolerate a spurious
wake-up (their sockets are non-blocking), as they must with any poller.
"""
from __future__ import annotations

import select
from selectors import EVENT_READ, EVENT_WRITE

_IN, _OUT = select.EPOLLIN, select.EPOLLOUT
_TO_EPOLL = {EVENT_READ: _IN, EVENT_WRITE: _OUT, EVENT_READ | EVENT_WRITE: _IN | _OUT}


def _fd(fileobj) -> int:
    fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
    if fd < 0:
        raise ValueError(f"invalid file descriptor: {fileobj!r}")
    return fd


def to_mask(ev: int) -> int:
    """An epoll event set as selectors' mask (as EpollSelector: errors and hang-ups
    wake both directions, so the handler's next read or write sees them)."""
    mask = 0
    if ev & ~_IN:
        mask |= EVENT_WRITE
    if ev & ~_OUT:
        mask |= EVENT_READ
    return mask


def _epoll_flags(events: int) -> int:
    try:
        return _TO_EPOLL[events]
    except KeyError:
        raise ValueError(f"invalid events: {events!r}") from None


class Poller:
    def __init__(self) -> None:
        self._ep = select.epoll()
        self.handlers: dict[int, object] = {}  # fd -> callback(mask)

    def register(self, fileobj, events: int, callback) -> None:
        fd = _fd(fileobj)
        if fd in self.handlers:
            raise KeyError(f"{fileobj!r} (fd {fd}) is already registered")
        flags = _epoll_flags(events)
        self._ep.register(fd, flags)
        self.handlers[fd] = callback

    def modify(self, fileobj, events: int, callback) -> None:
        fd = _fd(fileobj)
        if fd not in self.handlers:
            raise KeyError(f"{fileobj!r} is not registered")
        flags = _epoll_flags(events)
        self._ep.modify(fd, flags)
        self.handlers[fd] = callback

    def unregister(self, fileobj) -> None:
        fd = _fd(fileobj)
        del self.handlers[fd]  # KeyError if not registered, as selectors
        try:
            self._ep.unregister(fd)
        except OSError:
            pass

    def add_reader(self, fd: int, callback) -> None:
        """``register(fd, EVENT_READ, callback)`` for a descriptor known to be fresh
        (a socket just made): the per-query path, without the checks."""
        self._ep.register(fd, _IN)
        self.handlers[fd] = callback

    def discard(self, fd: int) -> None:
        """Unregister ``fd`` if it is registered (before closing it)."""
        if self.handlers.pop(fd, None) is not None:
            try:
                self._ep.unregister(fd)
            except OSError:
                pass

    def poll(self, timeout: float | None) -> list[tuple[int, int]]:
        """(fd, epoll events) ready within ``timeout`` seconds (None: no limit)."""
        return self._ep.poll(-1 if timeout is None else timeout)

    def get_map(self) -> dict[int, object]:
        return self.handlers

    def close(self) -> None:
        self._ep.close()
        self.handlers.clear()
