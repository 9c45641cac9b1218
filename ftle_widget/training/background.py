"""Run a training function in a background thread, so that widgets stay interactive meanwhile."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def _takes_should_stop(fn: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    parameter = parameters.get("should_stop")
    return parameter is not None and parameter.kind not in (
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.VAR_KEYWORD,
    )


class TrainingRun:
    """A function running in a daemon thread; made by :func:`run_in_background`.

    An exception raised by the function is kept in :attr:`error` and logged with its traceback
    once (logger ``ftle_widget.training.background``); it never propagates into the kernel.
    """

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]):
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        if _takes_should_stop(fn):
            if "should_stop" in kwargs:
                raise TypeError("should_stop is passed by run_in_background; do not pass it")
            kwargs = {**kwargs, "should_stop": self.should_stop}
        self._thread = threading.Thread(
            target=self._run,
            args=(fn, args, kwargs),
            name=f"ftle_widget training: {self.name}",
            daemon=True,
        )

    def _run(self, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> None:
        try:
            self._result = fn(*args, **kwargs)
        except BaseException as error:  # kept for the caller, never re-raised into the kernel
            self._error = error
            logger.error("training function %s failed", self.name, exc_info=error)
        finally:
            self._finished.set()

    def should_stop(self) -> bool:
        """True once :meth:`stop` was called (what a ``should_stop`` parameter receives)."""
        return self._stop.is_set()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the function to stop and wait for it (at most ``timeout`` seconds).

        Returns
        -------
        Whether it has finished. (Only functions that poll ``should_stop`` stop early.)
        """
        self._stop.set()
        if threading.current_thread() is self._thread:
            return False  # called from inside the run: it cannot wait for itself
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the function to finish (at most ``timeout`` seconds); whether it has."""
        return self._finished.wait(timeout)

    @property
    def result(self) -> Any:
        """What the function returned (``None`` until it has)."""
        return self._result

    @property
    def error(self) -> BaseException | None:
        """The exception the function raised, or ``None``."""
        return self._error

    @property
    def running(self) -> bool:
        """Whether the function is still running."""
        return self._thread.is_alive() and not self._finished.is_set()

    @property
    def done(self) -> bool:
        """Whether the function has returned or raised."""
        return self._finished.is_set()

    def __repr__(self) -> str:
        if not self.done:
            state = "stopping" if self._stop.is_set() else "running"
        elif self.error is not None:
            state = f"failed: {self.error!r}"
        else:
            state = f"done, result={self.result!r:.60}"
        return f"<TrainingRun {self.name!r} {state}>"


def run_in_background(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TrainingRun:
    """Start ``fn(*args, **kwargs)`` in a daemon thread and return its :class:`TrainingRun`.

    If ``fn`` has a parameter named ``should_stop``, it receives a function that returns True
    once :meth:`TrainingRun.stop` was called; poll it, e.g. once per batch.

    Examples
    --------
    >>> def train(model, epochs, should_stop):
    ...     for epoch in range(epochs):
    ...         if should_stop():
    ...             break
    ...         history.record(model, loss=train_one_epoch(model))
    >>> run = run_in_background(train, model, 100)
    >>> run.stop()
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    run = TrainingRun(fn, args, kwargs)
    run._thread.start()
    return run
