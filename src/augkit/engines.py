"""Where independent work items run: in this process, or spread over Ray Data.

``ray_map`` hands each item (a chunk index) to one of ``workers`` Ray actors and yields the
results in item order as they finish, so a caller can record them one by one exactly as it
does for local workers. Ray is the optional ``ray`` extra (``pip install augkit[ray]``) and is
imported only here, only when asked for. Without ``RAY_ADDRESS`` a local Ray is started with
``workers`` CPUs and shut down after; with it, the work goes to that cluster (every node must
see the input and output paths, e.g. on a shared file system).
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from augkit.errors import AugkitError

ENGINES = ("local", "ray")


def check_engine(engine: str) -> str:
    """``engine`` when it is known and, for ``ray``, importable; one line otherwise."""
    if engine not in ENGINES:
        raise AugkitError(f"engine: {engine!r} is not allowed; expected one of "
                          f"{', '.join(ENGINES)}")
    if engine == "ray":
        _ray()
    return engine


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise AugkitError("engine: 'ray' needs Ray Data, which is not installed; "
                          "pip install 'augkit[ray]'") from None
    return ray


class _Actor:
    """One Ray actor: builds its worker once, then runs the items it is given."""

    def __init__(self, make_worker: Callable[[], Callable[[int], Any]]):
        self.work = make_worker()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [pickle.dumps(self.work(int(item))) for item in batch["item"]]
        return {"result": np.array(results, dtype=object)}


def ray_map(make_worker: Callable[[], Callable[[int], Any]], items: list[int],
            workers: int) -> Iterator[Any]:
    """``make_worker()(item)`` for every item, on ``workers`` Ray actors, in item order.

    ``make_worker`` is pickled to the actors (a module-level function or a
    ``functools.partial`` of one); each actor calls it once and keeps what it returns."""
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        local = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                 configure_logging=False, **local)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # results come back in item order
        context.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        dataset = ray.data.from_items([{"item": item} for item in items],
                                      override_num_blocks=max(1, len(items)))
        dataset = dataset.map_batches(_Actor, fn_constructor_args=(make_worker,),
                                      batch_size=1, num_cpus=1,
                                      compute=ray.data.ActorPoolStrategy(size=workers))
        for row in dataset.iter_rows():
            yield pickle.loads(row["result"])
    finally:
        if started:
            ray.shutdown()


__all__ = ["ENGINES", "check_engine", "ray_map"]
