"""Engine overhead and PPO throughput on the tiny model, CPU by default.

    python benchmarks/training_bench.py [--steps 100] [--repeats 4] [--ppo-steps 6]

1. A reward model trained through `run_training` against a bare TRL script (RewardTrainer
   with the same arguments, data, evaluation and checkpoints, then save_model), both on the
   tiny model and the marker pairs, in one process with one torch thread, alternating in a
   balanced order (benchmarks/alternating.py), median of --repeats. Wall and CPU seconds (CPU:
   process and children). Target: the engine at most 5% slower.
2. PPO samples/second and generated tokens/second, full fine-tune and LoRA.

Prints a table; writes benchmarks/results/training.json.
"""
import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "training.json"

import torch  # noqa: E402

from alternating import alternate  # noqa: E402
from training.engine.data import read_jsonl  # noqa: E402
from training.engine.reporting import MemoryReporter  # noqa: E402
from training.engine.runner import run_training  # noqa: E402
from training.engine.tiny import build_tiny_model, write_marker_dataset  # noqa: E402

REWARD = {"learning_rate": 1e-3, "per_device_batch_size": 16, "max_length": 64, "logging_steps": 10,
          "precision": "fp32", "seed": 0}


def engine_reward(model: str, data: Path, out: Path, steps: int) -> None:
    run_training("reward", data, {**REWARD, "base_model": model, "max_steps": steps, "save_steps": steps // 2},
                 out, MemoryReporter())


def bare_trl_reward(model: str, data: Path, out: Path, steps: int) -> None:
    """What a user would write with TRL alone, doing the same work as the engine."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    args = RewardConfig(
        output_dir=str(out), learning_rate=REWARD["learning_rate"], max_steps=steps,
        per_device_train_batch_size=16, per_device_eval_batch_size=16, max_length=64, seed=0,
        logging_steps=10, save_steps=steps // 2, eval_strategy="steps", eval_steps=steps // 2,
        bf16=False,  # TRL defaults to bf16; the engine run is fp32 (precision "fp32")
        use_cpu=not torch.cuda.is_available(), report_to="none", disable_tqdm=True,
        model_init_kwargs={"dtype": torch.float32},
    )
    trainer = RewardTrainer(
        model=model, args=args, processing_class=AutoTokenizer.from_pretrained(model),
        train_dataset=Dataset.from_list(read_jsonl(data / "jsonl" / "train.jsonl")),
        eval_dataset=Dataset.from_list(read_jsonl(data / "jsonl" / "test.jsonl")),
    )
    trainer.train()
    trainer.save_model(str(out / "final"))


def ppo_throughput(model: str, reward_model: str, data: Path, out: Path, steps: int, use_lora: bool) -> dict:
    reporter = MemoryReporter()
    config = {"base_model": model, "reward_model": reward_model, "use_lora": use_lora, "learning_rate": 1e-3,
              "max_steps": steps, "rollout_batch_size": 32, "per_device_batch_size": 16,
              "max_new_tokens": 16, "max_length": 64, "logging_steps": 1, "save_steps": 1000, "precision": "auto"}
    run_training("ppo", data, config, out, reporter)
    # the first step warms up; the median of the rest is the steady state
    samples = [value for _, value in reporter.series("samples_per_second")[1:]]
    lengths = [value for _, value in reporter.series("response_length")[1:]]
    return {"samples_per_second": statistics.median(samples),
            "tokens_per_second": statistics.median(s * n for s, n in zip(samples, lengths))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=4, help="runs of each arm; even keeps the order balanced")
    parser.add_argument("--ppo-steps", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu (1 thread)"

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        model = str(build_tiny_model(folder / "tiny"))
        data = write_marker_dataset(folder / "pairs", n_train=512, n_test=64)
        for warm_up in (bare_trl_reward, engine_reward):  # imports and first-call costs, not measured
            warm_up(model, data, folder / f"warm-up-{warm_up.__name__}", 4)
        bare_times, engine_times = alternate(
            lambda repeat: bare_trl_reward(model, data, folder / f"bare-{repeat}", args.steps),
            lambda repeat: engine_reward(model, data, folder / f"engine-{repeat}", args.steps),
            args.repeats,
        )
        reward_model = str(folder / "engine-0" / "final")
        ppo = {name: ppo_throughput(model, reward_model, data, folder / f"ppo-{name}", args.ppo_steps, lora)
               for name, lora in (("full", False), ("lora", True))}

    medians = {clock: (statistics.median(t[index] for t in bare_times),
                       statistics.median(t[index] for t in engine_times))
               for index, clock in enumerate(("wall", "cpu"))}
    print(f"device: {device}; reward model: {args.steps} steps x 16 pairs, median of {args.repeats}")
    print(f"{'measure':<36}{'wall':>10}{'cpu':>10}")
    print(f"{'reward, bare TRL script (s)':<36}{medians['wall'][0]:>10.2f}{medians['cpu'][0]:>10.2f}")
    print(f"{'reward, run_training (s)':<36}{medians['wall'][1]:>10.2f}{medians['cpu'][1]:>10.2f}")
    overhead = {clock: engine / bare - 1 for clock, (bare, engine) in medians.items()}
    print(f"{'engine overhead (target <= 5%)':<36}{overhead['wall']:>10.1%}{overhead['cpu']:>10.1%}")
    # the least disturbed run of each: on a shared machine the steadiest comparison
    best = {clock: min(t[index] for t in engine_times) / min(t[index] for t in bare_times) - 1
            for index, clock in enumerate(("wall", "cpu"))}
    print(f"{'engine overhead, best of each':<36}{best['wall']:>10.1%}{best['cpu']:>10.1%}")
    for name, numbers in ppo.items():
        print(f"{f'PPO {name}, samples/s':<36}{numbers['samples_per_second']:>10.1f}")
        print(f"{f'PPO {name}, generated tokens/s':<36}{numbers['tokens_per_second']:>10.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "device": device, "reward_steps": args.steps, "repeats": args.repeats,
        "bare_trl_seconds_wall_cpu": bare_times, "engine_seconds_wall_cpu": engine_times,
        "engine_overhead": overhead, "engine_overhead_best_wall": best["wall"],
        "engine_overhead_best_cpu": best["cpu"], "ppo": ppo,
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
