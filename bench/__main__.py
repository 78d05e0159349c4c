"""Run every benchmark (or the named ones) and write one JSON file."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    names = sorted(p.stem.removesuffix("_bench") for p in HERE.glob("*_bench.py"))
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "only", nargs="*", choices=[*names, []], help="benchmarks to run (default: all)"
    )
    parser.add_argument("--out", default="bench-results.json")
    args = parser.parse_args(argv)
    results: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for name in args.only or names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}_bench")
        results[name] = module.run()
        print(
            f"bench: {name} done in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    text = json.dumps(results, indent=2, ensure_ascii=False)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
