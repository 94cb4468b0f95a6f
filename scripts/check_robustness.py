"""Run every chapter under nbval for several seeds and torch thread counts; tabulate the claims.

Each configuration (a seed shift and a thread count) starts from its own empty weights cache and
runs the chapters in order, as a new reader would. Every ``vu.check`` in a chapter writes its
value, bounds and margin to a log (``$VAE_UTILS_CLAIMS_LOG``); this script gathers the logs into

- a table chapter x configuration with the smallest margin of the chapter's claims, and
- a table of every claim: its bounds, the range of values measured and the smallest margin,

printed and written to ``_build/robustness/robustness.md`` (and ``.json``). The margin is how far
a value is inside its bounds, as a fraction of the bound (``vae_utils.claims.margin``).
It exits non-zero if any chapter failed in any configuration.

Usage (``make robustness`` runs the default matrix, about an hour and a half on 2 cores):
    python scripts/check_robustness.py [--seeds 0 1 2] [--threads 1 2] [--cores N] [NOTEBOOK ...]

Configurations run side by side while their threads add up to at most ``--cores`` (by default the
machine's cores): on 2 cores, two one-thread configurations share the machine, a two-thread one
runs alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_configuration(seed: int, threads: int, notebooks: list[Path], out: Path) -> dict:
    """Run ``notebooks`` in order with seed shift ``seed`` on ``threads`` threads, a fresh cache."""
    name = f"seed {seed}, {threads} thread{'s' if threads > 1 else ''}"
    results = {}
    with tempfile.TemporaryDirectory(prefix="vae-utils-cache-") as cache:
        for notebook in notebooks:
            log = out / f"claims-s{seed}-t{threads}-{notebook.stem}.jsonl"
            log.unlink(missing_ok=True)
            env = {
                **os.environ,
                "CI": "1",
                "VAE_UTILS_CACHE": cache,
                "VAE_UTILS_SEED_SHIFT": str(seed),
                "VAE_UTILS_CLAIMS_LOG": str(log),
                "OMP_NUM_THREADS": str(threads),  # torch's intra-op threads in the kernel
                "MKL_NUM_THREADS": str(threads),
                "PYTHONPATH": str(ROOT),  # this tree's vae_utils, whatever is installed
            }
            start = time.perf_counter()
            command = [sys.executable, "-m", "pytest", str(notebook), "--nbval-lax"]
            command += ["--nbval-current-env", "-q", "-p", "no:cacheprovider"]
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            claims = (
                [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            )
            results[notebook.stem] = {
                "passed": done.returncode == 0,
                "seconds": round(seconds, 1),
                "claims": claims,
                "output": "" if done.returncode == 0 else done.stdout[-4000:] + done.stderr[-2000:],
            }
            status = "passed" if done.returncode == 0 else "FAILED"
            print(f"[{name}] {notebook.stem}: {status} in {seconds:.0f} s", flush=True)
    return {"seed": seed, "threads": threads, "name": name, "chapters": results}


def machine() -> str:
    """The CPU's model name (Linux) or architecture, and the core count."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    return f"{names[0] if names else platform.machine()}, {os.cpu_count()} cores"


def _percent(value: float) -> str:
    return f"{100 * value:+.0f}%"


def report(configurations: list[dict]) -> str:
    """The two tables, in markdown."""
    chapters = list(configurations[0]["chapters"])
    lines = [
        "# Robustness of the book's claims",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}. Each configuration ran every "
        "chapter from an empty weights cache. Margin: how far the value is inside its bounds, as "
        "a fraction of the bound.",
        "",
        "## Smallest margin of each chapter's claims",
        "",
        "| chapter | " + " | ".join(c["name"] for c in configurations) + " |",
        "|---|" + "---|" * len(configurations),
    ]
    for chapter in chapters:
        cells = []
        for configuration in configurations:
            result = configuration["chapters"][chapter]
            margins = [float(c["margin"]) for c in result["claims"]]
            text = _percent(min(margins)) if margins else "no claims"
            if not result["passed"]:
                text = f"**FAILED** ({text})"
            cells.append(f"{text}, {result['seconds']:.0f} s")
        lines.append(f"| {chapter} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## Every claim over all configurations",
        "",
        "| chapter | claim | bounds | values measured | smallest margin | runs |",
        "|---|---|---|---|---|---|",
    ]
    by_claim: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for configuration in configurations:
        for chapter, result in configuration["chapters"].items():
            for claim in result["claims"]:
                by_claim[chapter, claim["claim"]].append(claim)
    for (chapter, text), claims in by_claim.items():
        values = [float(c["value"]) for c in claims]
        bounds = " and ".join(
            f"{side} {claims[0][side]:.4g}"
            for side in ("above", "below")
            if claims[0][side] is not None
        )
        smallest = min(float(c["margin"]) for c in claims)
        lines.append(
            f"| {chapter} | {text} | {bounds} | {min(values):.4g} to {max(values):.4g} | "
            f"{_percent(smallest)} | {len(claims)} |"
        )
    failures = [
        (configuration["name"], chapter, result["output"])
        for configuration in configurations
        for chapter, result in configuration["chapters"].items()
        if not result["passed"]
    ]
    for name, chapter, output in failures:
        lines += ["", f"## {chapter} failed with {name}", "", "```", output.strip(), "```"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seed shifts")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument(
        "--cores", type=int, default=os.cpu_count() or 1, help="threads of all runs at once"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "robustness")
    args = parser.parse_args()
    notebooks = [n.resolve() for n in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    args.out.mkdir(parents=True, exist_ok=True)
    matrix = [(seed, threads) for threads in args.threads for seed in args.seeds]
    free = threading.Condition()
    cores = [args.cores]

    def run_when_cores_are_free(seed: int, threads: int) -> dict:
        need = min(threads, args.cores)
        with free:
            free.wait_for(lambda: cores[0] >= need)
            cores[0] -= need
        try:
            return run_configuration(seed, threads, notebooks, args.out)
        finally:
            with free:
                cores[0] += need
                free.notify_all()

    with ThreadPoolExecutor(max_workers=len(matrix)) as pool:
        futures = [pool.submit(run_when_cores_are_free, s, t) for s, t in matrix]
        configurations = [future.result() for future in futures]
    text = report(configurations)
    (args.out / "robustness.md").write_text(text)
    (args.out / "robustness.json").write_text(json.dumps(configurations, indent=1))
    print(text)
    print(f"written to {args.out / 'robustness.md'}")
    failed = any(not r["passed"] for c in configurations for r in c["chapters"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
