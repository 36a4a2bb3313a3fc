"""Execution engines for independent tasks (leaderboard episodes, the carbon-price sweep):
``local`` (this machine: in this process, or a process pool of ``jobs`` workers) or ``ray``
(Ray tasks on a local Ray instance of this machine's CPUs, or on the cluster at ``address``).

:func:`run_unordered` yields ``(index, result)`` as each task finishes, so that callers stream
results to disk and a killed run resumes. :class:`Workers` keeps state between calls (the
Benders subproblems keep their solver models from one iteration to the next): worker ``i`` is
one process of a pool pinned to its share of the work, or one Ray actor. Every worker runs torch with one thread (several workers each using
every core make torch many times slower). Ray is an optional extra
(``pip install carbon-cpn[ray]``); asking for it without it installed is a clear error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

ENGINES = ("local", "ray")


def check_engine(engine: str, address: str | None = None) -> None:
    """ValueError naming the setting unless ``engine`` is one of :data:`ENGINES` and
    ``address`` (a Ray cluster) is given only with ``"ray"``."""
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}: expected one of {ENGINES}")
    if address is not None and engine != "ray":
        raise ValueError(f"ray_address={address!r}: only with engine='ray'")


def _one_thread() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _call(fn: Callable[[Any], Any], task: Any) -> Any:
    _one_thread()
    return fn(task)


def run_unordered(fn: Callable[[Any], Any], tasks: Sequence[Any], *, engine: str = "local", jobs: int = 1,
                  address: str | None = None) -> Iterator[tuple[int, Any]]:
    """``(i, fn(tasks[i]))`` for every task, in the order they finish. ``fn`` must be a
    module-level function (it is pickled to the workers)."""
    check_engine(engine, address)
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs={jobs!r}: expected an integer >= 1")
    if engine == "ray":
        yield from _run_ray(fn, tasks, address)
    elif jobs == 1 or len(tasks) <= 1:
        for i, t in enumerate(tasks):
            yield i, fn(t)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(jobs) as pool:
            futures = {pool.submit(_call, fn, t): i for i, t in enumerate(tasks)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()


def _run_ray(fn: Callable[[Any], Any], tasks: Sequence[Any], address: str | None) -> Iterator[tuple[int, Any]]:
    started = _ray_init(address)
    import ray

    try:
        remote = ray.remote(num_cpus=1)(_call)
        refs = {remote.remote(fn, t): i for i, t in enumerate(tasks)}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                yield refs[ref], ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def _ray_init(address: str | None) -> bool:
    """Start (or join) Ray unless it already runs here; True when this call started it."""
    try:
        import ray
    except ImportError:
        raise ValueError("engine='ray': Ray is not installed; expected `pip install carbon-cpn[ray]`") from None
    if ray.is_initialized():
        return False
    env = {"env_vars": {"OMP_NUM_THREADS": "1"}}
    if address is None:  # a local instance of this machine's CPUs, on loopback, no dashboard
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, runtime_env=env, log_to_driver=False,
                 _node_ip_address="127.0.0.1")
    else:
        _check_reachable(address)
        try:
            ray.init(address=address, runtime_env=env, log_to_driver=False)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ...: name the address
            raise ValueError(f"ray_address={address!r}: cannot join that Ray cluster ({exc})") from None
    return True


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast (Ray itself retries for minutes) when nothing listens at ``HOST:PORT`` (or
    ``ray://HOST:PORT``); ``"auto"`` and other forms are left to Ray."""
    import socket

    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        if address == "auto":
            return
        raise ValueError(f"ray_address={address!r}: expected HOST:PORT, ray://HOST:PORT or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ValueError(f"ray_address={address!r}: nothing answers there ({exc.strerror or exc}); expected the "
                         "address of a running Ray head node") from None


_STATE: dict[str, Any] = {}


def _local_init(init: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _one_thread()
    _STATE["state"] = init(*args)


def _local_call(fn: Callable[[Any, Any], Any], arg: Any) -> Any:
    return fn(_STATE["state"], arg)


class _Actor:
    """A Ray actor holding one worker's state."""

    def __init__(self, init: Callable[..., Any], args: tuple[Any, ...]) -> None:
        _one_thread()
        self.state = init(*args)

    def call(self, fn: Callable[[Any, Any], Any], arg: Any) -> Any:
        return fn(self.state, arg)


class Workers:
    """One worker per item of ``init_args``: worker ``i`` holds ``init(*init_args[i])`` as its
    state for as long as the pool lives, and :meth:`map` runs ``fn(state_i, args[i])`` on it.
    Local workers are single-process pools (worker ``i`` is always the same process); Ray
    workers are actors. Use as a context manager, or call :meth:`close`."""

    def __init__(self, init: Callable[..., Any], init_args: Sequence[tuple[Any, ...]], *, engine: str = "local",
                 address: str | None = None) -> None:
        check_engine(engine, address)
        if not init_args:
            raise ValueError("init_args: expected one tuple per worker, got none")
        self.n, self.engine = len(init_args), engine
        self._started_ray = False
        if engine == "ray":
            self._started_ray = _ray_init(address)
            import ray

            actor = ray.remote(num_cpus=1)(_Actor)
            self._actors = [actor.remote(init, tuple(a)) for a in init_args]
        else:
            from concurrent.futures import ProcessPoolExecutor

            self._pools = [ProcessPoolExecutor(1, initializer=_local_init, initargs=(init, tuple(a)))
                           for a in init_args]

    def map(self, fn: Callable[[Any, Any], Any], args: Sequence[Any]) -> list[Any]:
        """``[fn(state_i, args[i]) for i]``, in parallel; ``len(args)`` must be ``n``."""
        if len(args) != self.n:
            raise ValueError(f"args: {len(args)} items; expected one per worker ({self.n})")
        if self.engine == "ray":
            import ray

            return ray.get([a.call.remote(fn, x) for a, x in zip(self._actors, args)])
        futures = [pool.submit(_local_call, fn, x) for pool, x in zip(self._pools, args)]
        return [f.result() for f in futures]

    def close(self) -> None:
        if self.engine == "ray":
            import ray

            for a in self._actors:
                ray.kill(a)
            if self._started_ray:
                ray.shutdown()
        else:
            for pool in self._pools:
                pool.shutdown()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["ENGINES", "Workers", "check_engine", "run_unordered"]
