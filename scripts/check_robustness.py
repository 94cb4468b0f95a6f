"""Run every chapter under nbval for several seeds and torch thread counts; tabulate the claims.

Each configuration (a seed shift and a thread count) starts from its own empty weights cache and
runs the chapters in order, as a new reader would. Each chapter's result is saved as it comes, so
parts of the matrix run at different times add up to one report (``--report-only`` tabulates
them). Every ``vu.claims.check`` in a chapter writes its value, bounds and margin to a log
(``$VAE_UTILS_CLAIMS_LOG``); this script gathers the logs into

- a table chapter x configuration with the smallest margin of the chapter's claims, and
- a table of every claim: its bounds, the range of values measured and the smallest margin,

printed and written to ``_build/robustness/robustness.md``. The margin is how far
a value is inside its bounds, as a fraction of the bound (``vae_utils.claims.margin``).
It exits non-zero if any chapter failed in any configuration.

Usage (``make robustness`` runs the default matrix: every chapter for seed shifts 0, 1, 2 x torch
threads 1, 2, six runs of the course):
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


def run_configuration(seed: int, threads: int, notebooks: list[Path], out: Path) -> None:
    """Run ``notebooks`` in order with seed shift ``seed`` on ``threads`` threads, a fresh cache.

    Each chapter's result (passed, seconds, its claims, the end of the output if it failed) is
    written to ``out/result-s{seed}-t{threads}-{chapter}.json`` as soon as it is known.
    """
    name = configuration_name(seed, threads)
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
            result = {
                "seed": seed,
                "threads": threads,
                "chapter": notebook.stem,
                "passed": done.returncode == 0,
                "seconds": round(seconds, 1),
                "claims": claims,
                "output": "" if done.returncode == 0 else done.stdout[-4000:] + done.stderr[-2000:],
            }
            path = out / f"result-s{seed}-t{threads}-{notebook.stem}.json"
            path.write_text(json.dumps(result, indent=1))
            status = "passed" if done.returncode == 0 else "FAILED"
            print(f"[{name}] {notebook.stem}: {status} in {seconds:.0f} s", flush=True)


def configuration_name(seed: int, threads: int) -> str:
    return f"seed {seed}, {threads} thread{'s' if threads > 1 else ''}"


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


def _margin_text(claims: list[dict]) -> str:
    """The smallest margin of ``claims``: a percentage, or a plain number where a bound is 0."""
    smallest = min(claims, key=lambda c: float(c["margin"]))
    if 0.0 in (smallest["above"], smallest["below"]):
        return f"{float(smallest['margin']):+.3g} (absolute: the bound is 0)"
    return _percent(float(smallest["margin"]))


def report(results: list[dict]) -> str:
    """The two tables, in markdown, from the chapters' results (any subset of the matrix)."""
    configurations = sorted({(r["threads"], r["seed"]) for r in results})
    chapters = sorted({r["chapter"] for r in results})
    found = {(r["chapter"], r["threads"], r["seed"]): r for r in results}
    names = [configuration_name(seed, threads) for threads, seed in configurations]
    lines = [
        "# Robustness of the book's claims",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}. Each configuration ran the "
        "chapters in order from an empty weights cache. Margin: how far the value is inside its "
        "bounds, as a fraction of the bound; each cell gives the chapter's smallest margin and "
        "its time.",
        "",
        "## Smallest margin of each chapter's claims",
        "",
        "| chapter | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for chapter in chapters:
        cells = []
        for threads, seed in configurations:
            result = found.get((chapter, threads, seed))
            if result is None:
                cells.append("not run")
                continue
            text = _margin_text(result["claims"]) if result["claims"] else "no claims"
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
    for result in sorted(results, key=lambda r: r["chapter"]):
        for claim in result["claims"]:
            by_claim[result["chapter"], claim["claim"]].append(claim)
    for (chapter, text), claims in by_claim.items():
        values = [float(c["value"]) for c in claims]
        bounds = " and ".join(
            f"{side} {claims[0][side]:.4g}"
            for side in ("above", "below")
            if claims[0][side] is not None
        )
        lines.append(
            f"| {chapter} | {text} | {bounds} | {min(values):.4g} to {max(values):.4g} | "
            f"{_margin_text(claims)} | {len(claims)} |"
        )
    for result in results:
        if not result["passed"]:
            name = configuration_name(result["seed"], result["threads"])
            lines += ["", f"## {result['chapter']} failed with {name}", "", "```"]
            lines += [result["output"].strip(), "```"]
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
    parser.add_argument(
        "--report-only", action="store_true", help="only tabulate the results already in --out"
    )
    args = parser.parse_args()
    args.out = args.out.resolve()  # the kernels write their claim logs from the notebooks folder
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

    if not args.report_only:
        with ThreadPoolExecutor(max_workers=len(matrix)) as pool:
            for future in [pool.submit(run_when_cores_are_free, s, t) for s, t in matrix]:
                future.result()
    results = [json.loads(path.read_text()) for path in sorted(args.out.glob("result-*.json"))]
    text = report(results)
    (args.out / "robustness.md").write_text(text)
    print(text)
    print(f"written to {args.out / 'robustness.md'}")
    failed = any(not r["passed"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
