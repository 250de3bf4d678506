"""What running through the Run task costs: a reward-model run via the task's body against the engine alone.

    python benchmarks/run_task_bench.py [--steps 100] [--repeats 4] [--logging-steps 1,10]

The task's body (`training.execution.execute`) claims the row, trains through `run_training` with
the RunReporter (a RunMetric row per logging step, the log tail, a cancel check per step), keeps a
heartbeat thread and records the outcome. The engine alone is `run_training` with an in-memory
reporter; benchmarks/training_bench.py compares that with a bare TRL script. Same tiny model, same
marker pairs, alternating in a balanced order (benchmarks/alternating.py), median of --repeats;
wall and CPU seconds (CPU: this process and its children, so the heartbeat thread counts too).
Target: the task at most 5% slower than the engine alone.
The database is a fresh SQLite file, or DATABASE_URL when set. Writes benchmarks/results/run_task.json.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from alternating import alternate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "run_task.json"
REWARD = {"learning_rate": 1e-3, "per_device_batch_size": 16, "max_length": 64, "precision": "fp32", "seed": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=4, help="runs of each arm; even keeps the order balanced")
    parser.add_argument("--logging-steps", default="1,10", help="comma-separated; 1 is the worst case for the task")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="run-task-bench-"))
    os.environ["PREFSTACK_DATA_DIR"] = str(folder / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefstack.settings")
    import django
    import torch

    django.setup()
    from django.core.management import call_command

    from training.engine.config import config_from_dict, config_to_dict
    from training.engine.reporting import MemoryReporter
    from training.engine.runner import run_training
    from training.engine.tiny import build_tiny_model, write_marker_dataset
    from training.execution import execute
    from training.models import Run

    torch.set_num_threads(1)
    call_command("migrate", verbosity=0)
    model = str(build_tiny_model(folder / "tiny"))
    data = write_marker_dataset(folder / "pairs", n_train=512, n_test=64)

    def config(steps: int, logging_steps: int) -> dict:
        return config_to_dict(config_from_dict("reward", {
            **REWARD, "base_model": model, "max_steps": steps, "save_steps": max(steps // 2, 1), "logging_steps": logging_steps,
        }))

    def engine_alone(steps: int, logging_steps: int, out: Path) -> None:
        run_training("reward", data, config(steps, logging_steps), out, MemoryReporter())

    def through_task(steps: int, logging_steps: int, out: Path) -> None:
        run = Run.objects.create(kind="reward", base_model=model, dataset_path=str(data),
                                 config=config(steps, logging_steps), output_dir=str(out))
        finished = execute(run.pk)
        assert finished.status == Run.Status.SUCCEEDED, finished.error

    for warm_up in (engine_alone, through_task):  # imports and first-call costs are not measured
        warm_up(4, 1, folder / f"warm-up-{warm_up.__name__}")
    rows = []
    for logging_steps in (int(part) for part in args.logging_steps.split(",")):
        times = dict(zip(("engine", "task"), alternate(
            lambda repeat: engine_alone(args.steps, logging_steps, folder / f"engine-{logging_steps}-{repeat}"),
            lambda repeat: through_task(args.steps, logging_steps, folder / f"task-{logging_steps}-{repeat}"),
            args.repeats,
        )))
        median = {name: [statistics.median(t[i] for t in values) for i in (0, 1)] for name, values in times.items()}
        rows.append({
            "logging_steps": logging_steps,
            "engine_wall_s": median["engine"][0], "task_wall_s": median["task"][0],
            "engine_cpu_s": median["engine"][1], "task_cpu_s": median["task"][1],
            "overhead_wall": median["task"][0] / median["engine"][0] - 1,
            "overhead_cpu": median["task"][1] / median["engine"][1] - 1,
            "overhead_best_wall": min(t[0] for t in times["task"]) / min(t[0] for t in times["engine"]) - 1,
        })

    from django.db import connection

    print(f"database: {connection.vendor}; reward model: {args.steps} steps x 16 pairs, median of {args.repeats}")
    print(f"{'logging every':>14}{'engine wall':>13}{'task wall':>11}{'overhead':>10}{'engine cpu':>12}{'task cpu':>10}"
          f"{'overhead':>10}{'best wall':>11}")
    for row in rows:
        print(f"{row['logging_steps']:>10} step{row['engine_wall_s']:>13.2f}{row['task_wall_s']:>11.2f}{row['overhead_wall']:>10.1%}"
              f"{row['engine_cpu_s']:>12.2f}{row['task_cpu_s']:>10.2f}{row['overhead_cpu']:>10.1%}{row['overhead_best_wall']:>11.1%}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"database": connection.vendor, "steps": args.steps, "repeats": args.repeats,
                                   "rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
