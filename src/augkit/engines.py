"""Where independent work items run: in this process, or spread over Ray Data.

``ray_map`` runs the items (chunk indices) as Ray Data tasks, ``workers`` at a time, a few
items per task, and yields the results in item order, so that a caller records them one by
one exactly as it does for local workers. The tasks run in Ray's worker processes, which Ray
keeps from run to run: torch and augkit are imported once per process. Ray is the optional
``ray`` extra (``pip install augkit[ray]``) and is imported only here, only when asked for.
Without ``RAY_ADDRESS`` a local Ray is started with ``workers`` CPUs and shut down after;
with it, the work goes to that cluster (every node must see the input and output paths,
e.g. on a shared file system).
"""

from __future__ import annotations

import logging
import os
import pickle
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from augkit.errors import AugkitError

ENGINES = ("local", "ray")
# Items per Ray Data block (one task each, results back when it ends): few blocks, since
# each costs the driver a scheduling round, yet bounded, for progress and resume.
MAX_BLOCK_ITEMS = 16


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


# This worker process's worker, by run; kept (with the shared arrays it reads in place)
# until the process's next run replaces it.
_BUILT: dict[str, Callable[[int], Any]] = {}


def _run_items(batch: dict[str, np.ndarray], run: str, make_worker: Callable[..., Any],
               shared: Any) -> dict[str, np.ndarray]:
    """One Ray task: the items of ``batch`` through the run's worker, built on the first
    task of the run that this process gets. Ray keeps its worker processes between tasks and
    runs, so torch and augkit are imported once per process, not once per run."""
    work = _BUILT.get(run)
    if work is None:
        _BUILT.clear()  # an earlier run's source and pipeline
        work = _BUILT[run] = make_worker() if shared is None else make_worker(_ray().get(shared))
    try:
        results = [pickle.dumps(work(int(item))) for item in batch["item"]]
    except AugkitError as error:  # the user's to mend: their one line, not Ray's traceback
        results = [pickle.dumps(error)]
    return {"result": np.array(results, dtype=object)}


# Ray Data settings for the run, put back after it. By default Ray Data holds half the CPUs
# in reserve per operator, and holds tasks back while finished results wait for earlier ones
# to be consumed: either leaves one of two workers idle.
_DATA_SETTINGS = {"enable_progress_bars": False, "op_resource_reservation_enabled": False,
                  "downstream_capacity_backpressure_ratio": None}


def _blocks(items: int, workers: int) -> int:
    """One block per worker, or more of at most MAX_BLOCK_ITEMS items each."""
    return max(1, min(items, workers), -(-items // MAX_BLOCK_ITEMS))


def ray_map(make_worker: Callable[..., Callable[[int], Any]], items: list[int],
            workers: int, shared: Any = None) -> Iterator[Any]:
    """``make_worker()(item)`` for every item, as Ray Data tasks, at most ``workers`` at
    once, in item order.

    ``make_worker`` is pickled to the tasks (a module-level function or a
    ``functools.partial`` of one); each worker process calls it once per run and keeps what
    it returns. ``shared``, when given, goes once into Ray's object store and the worker is
    ``make_worker(shared)``: the numpy arrays in it are read there in place by every process
    of a node, not pickled per task."""
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        local = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                 configure_logging=False, **local)
    context = ray.data.DataContext.get_current()
    before = {name: getattr(context, name) for name in _DATA_SETTINGS
              if hasattr(context, name)}  # an older Ray Data may lack one
    before_order = context.execution_options.preserve_order
    try:
        for name in before:
            setattr(context, name, _DATA_SETTINGS[name])
        context.execution_options.preserve_order = True  # results come back in item order
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        # augkit shows its own bar; Ray Data's note that its bars are off is noise
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
        blocks = _blocks(len(items), workers)
        dataset = ray.data.from_items([{"item": item} for item in items],
                                      override_num_blocks=blocks)
        shared_ref = None if shared is None else ray.put(shared)
        dataset = dataset.map_batches(_run_items,
                                      fn_args=(uuid.uuid4().hex, make_worker, shared_ref),
                                      batch_size=1, num_cpus=1,
                                      compute=ray.data.TaskPoolStrategy(size=min(workers, blocks)))
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy",
                                          prefetch_batches=0):
            for result in batch["result"]:
                value = pickle.loads(result)
                if isinstance(value, AugkitError):
                    raise value
                yield value
    finally:
        context.execution_options.preserve_order = before_order
        for name, value in before.items():
            setattr(context, name, value)
        if started:
            ray.shutdown()


__all__ = ["ENGINES", "check_engine", "ray_map"]
