"""Timing two ways of doing the same work in one process, so that neither is favoured by where it runs.

- The arms alternate in a balanced order (A B, B A, A B, ...): load that drifts over the run, or
  a penalty for running second, hits both alike.
- Each timed run starts from a collected heap: the garbage a run leaves (a whole trainer, its
  model and optimiser) is freed before the next run's clock starts, not on it.
- CPU is this process's (all its threads) plus its children's: on a shared machine it is
  steadier than wall time, which counts the time other people's processes hold the cores.
"""
import gc
import os
import time
from typing import Callable


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(function: Callable, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of function(*args)."""
    gc.collect()
    wall, cpu = time.perf_counter(), cpu_seconds()
    function(*args)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def alternate(first: Callable[[int], None], second: Callable[[int], None], repeats: int
              ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Run first(repeat) and second(repeat) `repeats` times each in a balanced order; their (wall, CPU) lists."""
    first_times, second_times = [], []
    for repeat in range(repeats):
        runs = ((first, first_times), (second, second_times))
        for arm, times in runs if repeat % 2 == 0 else runs[::-1]:
            times.append(timed(arm, repeat))
    return first_times, second_times
