"""What the course costs its readers, measured on this machine: `make bench` prints one table.

- each notebook's execution time under nbval, cold (alone, with its own empty weights cache, as on a
  fresh Colab runtime, which has only the weights that ship with the package) and warm (with
  whatever the cold run cached, as a reader's second run), beside the cold times issue 30
  measured before every default-seed run shipped, and the totals;
- each notebook cold again beside a neighbour, a busy single-threaded process (a reader's laptop is
  rarely idle), with torch's default threads and with one thread;
- the training time of each demo whose training is the lesson (tests/no_training_startup.py,
  which also makes any other training fail, as in `make test`);
- the training throughput of `vae_utils.fit` on a 784-400-20 MLP VAE over Fashion-MNIST, next to a
  minimal plain PyTorch loop of the same model in the same run, and as a fraction of the float32
  matmul FLOP/s this CPU reaches on the same layer shapes (the peak, printed first, so that a table
  from one CPU can be read on another);
- a sweep of eleven of chapter 4's VAEs trained together (`vae_utils.fit_together`) against the
  same models trained one after another;
- the time to rebuild the book from a warm execution cache;
- the size of the largest page of the built site.

`make bench` builds the book first (the rebuild row needs its execution cache). Timings on a
shared 2-core machine vary by 10-30 % from run to run; the throughput rows interleave the two
loops to compare them under the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import torch

import vae_utils as vu

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_TARGET_S = 15.0  # each chapter, cold (issue 30)
COLD_TOTAL_TARGET_S = 120.0
NEIGHBOUR_TARGET = 2.0  # at most twice the time alone, beside a busy process
DEMO_TARGET_S = 3.0  # the training of each demo
FIT_PEAK_TARGET = 0.6  # fit's matmul FLOP/s as a fraction of the peak on the same shapes
# Cold seconds per chapter before every default-seed run shipped, as issue 30 reported them (AMD
# EPYC, 2 cores, nothing else running, each chapter alone with its own empty cache).
BEFORE_COLD_S = {
    "01_dimensionality_reduction": 15,
    "02_autoencoders": 19,
    "03_variational_autoencoders": 8,
    "04_loss_weight": 46,
    "05_mathematics": 7,
    "06_pitfalls": 12,
    "07_beta_vae": 52,
    "08_conditional_vae": 23,
    "09_convolutional_vae": 14,
    "10_log_likelihood": 25,
    "11_posterior_collapse": 20,
    "12_learning_the_prior": 32,
    "13_why_samples_blur": 26,
    "14_vq_vae": 12,
}
# A neighbour: one busy core, as a browser or another kernel would take it.
NEIGHBOUR = (
    "import torch; torch.set_num_threads(1); a = torch.randn(256, 256)\n"
    "while True: a = torch.tanh(a @ a)"
)
REBUILD_TARGET_S = 60.0
PAGE_TARGET_BYTES = 5e6
LAYERS = [(784, 400), (400, 40), (20, 400), (400, 784)]  # (in, out) of the VAE's linear layers
TRAINING = vu.TrainConfig()  # the course's default batch size and learning rate
BATCH_SIZE = TRAINING.batch_size
C = 10.0


def run_timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Run ``command`` in the repository root, fail loudly if it fails, return its wall time."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def no_training_profile(directory: Path) -> Path:
    """An IPython folder whose startup file makes training fail outside the demos and logs the
    demos' training time (tests/no_training_startup.py), as `make test` sets it up."""
    startup = directory / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "no_training.py").write_text((ROOT / "tests" / "no_training_startup.py").read_text())
    return directory


def notebook_time(notebook: Path, cache: str, **env: str) -> float:
    """Seconds to run ``notebook`` under nbval with the weights cache ``cache``."""
    command = [sys.executable, "-m", "pytest", str(notebook.relative_to(ROOT)), "--nbval-lax"]
    command += ["--nbval-current-env", "-p", "no:cacheprovider", "-q"]
    return run_timed(command, {**os.environ, "CI": "1", "VAE_UTILS_CACHE": cache, **env})


def notebook_times(notebooks: list[Path], log: Path) -> dict[str, dict[str, float]]:
    """Seconds per notebook under nbval, one at a time, training made to fail outside the demos
    (whose training times go to ``log``):

    - ``cold``: alone, from an empty weights cache of its own, as a fresh runtime;
    - ``warm``: at once again, with the cache that the cold run filled;
    - ``neighbour``, ``neighbour, 1 thread``: cold again, beside a busy single-threaded process,
      with torch's default number of threads and with one.
    """
    times: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="vae-utils-ipython-") as ipython:
        guard = {"IPYTHONDIR": str(no_training_profile(Path(ipython)))}
        for notebook in notebooks:
            row = times[notebook.stem] = {}
            with tempfile.TemporaryDirectory(prefix="vae-utils-cold-") as cache:
                logged = {**guard, "VAE_UTILS_TRAINING_LOG": str(log)}
                row["cold"] = notebook_time(notebook, cache, **logged)
                row["warm"] = notebook_time(notebook, cache, **guard)
            neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
            try:
                time.sleep(1.0)  # let it start
                for name, threads in (
                    ("neighbour", {}),
                    ("neighbour, 1 thread", {"OMP_NUM_THREADS": "1"}),
                ):
                    env = {**guard, **threads}
                    with tempfile.TemporaryDirectory(prefix="vae-utils-cold-") as cache:
                        row[name] = notebook_time(notebook, cache, **env)
            finally:
                neighbour.kill()
                neighbour.wait()
    return times


def plain_loop(model: torch.nn.Module, x: torch.Tensor, num_epochs: int) -> None:
    """The textbook training loop: what `fit` should be no slower than."""
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAINING.lr)
    for _ in range(num_epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), BATCH_SIZE):
            batch = x[order[start : start + BATCH_SIZE]]
            x_hat, mu, log_var = model(batch)
            loss = vu.vae_loss(batch, x_hat, mu, log_var, C=C).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def training_throughput(x: torch.Tensor, num_epochs: int, repeats: int) -> tuple[float, float]:
    """Median images per second of `fit` and of the plain loop, measured alternately."""

    def new_model() -> vu.VAE:
        torch.manual_seed(0)
        return vu.VAE(784, (400,), 20)

    def fit(model: vu.VAE, x: torch.Tensor, num_epochs: int) -> None:
        config = vu.TrainConfig(num_epochs=num_epochs)  # the default batch and learning rate
        vu.fit(model, x, partial(vu.vae_objective, C=C), config, progress=False)

    fit(new_model(), x[:10_000], num_epochs=1)  # warm up both paths
    plain_loop(new_model(), x[:10_000], num_epochs=1)
    rates: dict[str, list[float]] = {"fit": [], "plain": []}
    for _ in range(repeats):
        for name in ("fit", "plain"):
            model = new_model()
            start = time.perf_counter()
            if name == "fit":
                fit(model, x, num_epochs)
            else:
                plain_loop(model, x, num_epochs)
            rates[name].append(num_epochs * len(x) / (time.perf_counter() - start))
    return statistics.median(rates["fit"]), statistics.median(rates["plain"])


def sweep_throughput(x: torch.Tensor, num_models: int = 11) -> tuple[float, float]:
    """Model-images per second of a sweep of chapter 4's VAEs (784-256-2), one epoch of ``x``:
    trained together by `fit_together`, and one after another by `fit` (three of them timed)."""
    weights = [float(C) for C in range(1, num_models + 1)]
    config = vu.TrainConfig(num_epochs=1, batch_size=128, lr=1e-3)  # chapter 4's, one epoch

    def new_model() -> vu.VAE:
        torch.manual_seed(0)
        return vu.VAE(784, (256,), 2)

    start = time.perf_counter()
    models = [new_model() for _ in weights]
    vu.fit_together(models, x, vu.vae_objective, config, loss_kwargs={"C": weights}, progress=False)
    together = num_models * len(x) / (time.perf_counter() - start)
    start = time.perf_counter()
    for C in weights[:3]:
        vu.fit(new_model(), x, partial(vu.vae_objective, C=C), config, progress=False)
    alone = 3 * len(x) / (time.perf_counter() - start)
    return together, alone


def matmul_flops_per_second(repeats: int = 300) -> float:
    """float32 FLOP/s of this CPU on the VAE's layer shapes at the training batch size."""
    operands = [(torch.randn(BATCH_SIZE, n_in), torch.randn(n_in, n_out)) for n_in, n_out in LAYERS]
    for a, b in operands:
        a @ b  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        for a, b in operands:
            a @ b
    seconds = time.perf_counter() - start
    return repeats * sum(2 * BATCH_SIZE * n_in * n_out for n_in, n_out in LAYERS) / seconds


def training_flops_per_image() -> float:
    """Matmul FLOPs to train on one image: the forward pass, and about twice that backwards."""
    return 3 * sum(2 * n_in * n_out for n_in, n_out in LAYERS)


def largest_page() -> tuple[str, int]:
    pages = (ROOT / "_build" / "html").rglob("*.html")
    page = max(pages, key=lambda path: path.stat().st_size)
    return str(page.relative_to(ROOT / "_build" / "html")), page.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs of each loop")
    parser.add_argument("chapters", nargs="*", help="notebook stems or prefixes (default: all)")
    args = parser.parse_args()
    notebooks = [
        notebook
        for notebook in sorted((ROOT / "notebooks").glob("*.ipynb"))
        if not args.chapters or any(notebook.stem.startswith(c) for c in args.chapters)
    ]
    if not (ROOT / "_build" / "html" / "index.html").is_file():
        sys.exit("the book is not built; run `make bench` (it builds the book first)")

    rows: list[tuple[str, str, str]] = []  # (measure, value, target and verdict)

    def verdict(ok: bool, target: str) -> str:
        return f"{target}: {'ok' if ok else 'MISSED'}"

    x, _ = vu.load_fashion_mnist("train")
    peak = matmul_flops_per_second()  # first, on a quiet machine: the yardstick of the rest
    rows.append(("float32 matmul, the VAE's layer shapes", f"{peak / 1e9:.0f} GFLOP/s", ""))

    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "demos.jsonl"
        times = notebook_times(notebooks, log)
        demos = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for name, row in times.items():
        before = f" (before: {BEFORE_COLD_S[name]} s)" if name in BEFORE_COLD_S else ""
        ok = row["cold"] <= NOTEBOOK_TARGET_S
        target = f"<= {NOTEBOOK_TARGET_S:.0f} s"
        rows.append((f"nbval {name}, cold", f"{row['cold']:.1f} s{before}", verdict(ok, target)))
        rows.append((f"nbval {name}, warm", f"{row['warm']:.1f} s", ""))
        for neighbour in ("neighbour", "neighbour, 1 thread"):
            ratio = row[neighbour] / row["cold"]
            ok = ratio <= NEIGHBOUR_TARGET
            value = f"{row[neighbour]:.1f} s ({ratio:.2f}x alone)"
            target = verdict(ok, f"<= {NEIGHBOUR_TARGET:.0f}x") if neighbour == "neighbour" else ""
            rows.append((f"nbval {name}, cold, {neighbour}", value, target))
    for key, target_s in (("cold", COLD_TOTAL_TARGET_S), ("warm", None)):
        total = sum(row[key] for row in times.values())
        target = verdict(total <= target_s, f"<= {target_s:.0f} s") if target_s else ""
        rows.append((f"nbval, every chapter {key}", f"{total:.1f} s", target))
    for key in ("neighbour", "neighbour, 1 thread"):
        total = sum(row[key] for row in times.values())
        rows.append((f"nbval, every chapter cold, {key}", f"{total:.1f} s", ""))
    for demo in demos:
        ok = demo["seconds"] <= DEMO_TARGET_S
        value = f"{demo['seconds']:.2f} s ({demo['steps']} steps)"
        rows.append((f"demo {demo['demo']!r}", value, verdict(ok, f"<= {DEMO_TARGET_S:.0f} s")))

    fit_rate, plain_rate = training_throughput(x, args.epochs, args.repeats)
    flops = training_flops_per_image()
    rows.append(("fit, 784-400-20 VAE", f"{fit_rate:,.0f} images/s", ""))
    rows.append(("plain PyTorch loop, same model", f"{plain_rate:,.0f} images/s", ""))
    ratio = fit_rate / plain_rate
    speed = "ok" if ratio >= 1.0 else "ok within 3% noise" if ratio >= 0.97 else "MISSED"
    rows.append(("fit / plain loop", f"{ratio:.2f}x", f">= 1.0x: {speed}"))
    fraction = fit_rate * flops / peak
    rows.append(
        (
            f"fit's matmul FLOP/s / the peak ({flops / 1e6:.1f} MFLOP/image)",
            f"{fraction:.0%}",
            verdict(fraction >= FIT_PEAK_TARGET, f">= {FIT_PEAK_TARGET:.0%}"),
        )
    )

    together, alone = sweep_throughput(x[:20_000])
    rows.append(("sweep of 11 VAEs (784-256-2), fit_together", f"{together:,.0f} images/s", ""))
    rows.append(("the same VAEs one after another, fit", f"{alone:,.0f} images/s", ""))
    rows.append(("fit_together / fit", f"{together / alone:.2f}x", ""))

    rebuild = run_timed([str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "--all"])
    ok = rebuild < REBUILD_TARGET_S
    rows.append(("book rebuild, warm cache (--all)", f"{rebuild:.1f} s", verdict(ok, "< 60 s")))
    page, size = largest_page()
    ok = size < PAGE_TARGET_BYTES
    rows.append((f"largest page ({page})", f"{size / 1e6:.2f} MB", verdict(ok, "< 5 MB")))

    print(f"\nBenchmark, {torch.get_num_threads()} torch threads, torch {torch.__version__}\n")
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    header = ("measure", "value", "target")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
