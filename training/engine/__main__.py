"""CLI: python -m training.engine <kind> --data PATH --config cfg.json --out DIR [--resume].

Metrics and text lines go to stdout as JSON lines. Under `torchrun --nproc_per_node N` (or
`accelerate launch`) the same command trains data-parallel on N devices.
"""

from __future__ import annotations

import argparse
import json
import sys

from training.engine.config import CONFIG_CLASSES, ConfigError
from training.engine.data import DatasetError
from training.engine.reporting import JsonLinesReporter


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.engine", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(CONFIG_CLASSES))
    parser.add_argument("--data", required=True, help="a .jsonl file or a snapshot folder")
    parser.add_argument("--config", help="a JSON file of config fields (defaults for the rest)")
    parser.add_argument("--out", required=True, help="output folder (checkpoints and final/)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    args = parser.parse_args(argv)

    config = {}
    if args.config:
        with open(args.config, encoding="utf-8") as config_file:
            config = json.load(config_file)
    from training.engine.runner import run_training  # torch is only imported once the arguments are fine

    try:
        result = run_training(args.kind, args.data, config, args.out, JsonLinesReporter(), resume=args.resume)
    except ConfigError as error:
        for field, message in error.errors.items():
            print(f"config error: {field} {message}", file=sys.stderr)
        return 2
    except DatasetError as error:
        print(f"dataset error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"outcome": result.outcome, "step": result.step,
                      "final_dir": str(result.final_dir) if result.final_dir else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
