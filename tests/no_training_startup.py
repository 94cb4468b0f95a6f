"""Training made to fail: an IPython startup file for the chapters' runs in `make test` (issue 30).

At the default seed a chapter trains nothing it could load: every model its calls train is
shipped (``scripts/train_course_models.py``). The exceptions are the demos in :data:`DEMOS`,
short trainings that are the lesson (the reader watches them happen). `make test` copies this file
into the startup folder of a fresh IPython profile (``$IPYTHONDIR``), so that every kernel nbval
starts runs it first: then an optimiser step taken by a cell other than a demo's raises, and the
training time of each demo is written to ``$VAE_UTILS_TRAINING_LOG`` (one JSON line per cell that
trained). Steps between cells are a widget's callback, a reader pressing a button to train (the
live C slider): those are allowed.

It stays out of the way where training is the point: at another seed shift
(``$VAE_UTILS_SEED_SHIFT``, the robustness matrix) and with the shipped weights turned off
(``$VAE_UTILS_SHIPPED=0``, ``scripts/train_course_models.py``).
"""

# chapter -> a line of each cell whose training is the lesson (tests/test_no_training.py checks
# that each is in its chapter, once)
DEMOS = {
    # the linear autoencoder finds the PCA plane, trained where the reader sees it
    "02_autoencoders": ["linear_history = fit("],
    # gradient descent on a wrong-sign KL, one image's four numbers: the pitfall is in the steps
    "06_pitfalls": ["optimizer = torch.optim.Adam([mu, log_var], lr=0.1)"],
    # the same network on shuffled pixels: the experiment is the training
    "09_convolutional_vae": ["vu.fit(shuffled_mlp, x_train[:10_000, permutation], loss, config)"],
    # the best Gaussian posterior of each image, found by gradient ascent: the amortisation gap
    "15_hierarchical_vae": ["optimizer = torch.optim.Adam([mu_star, log_var_star], lr=1e-2)"],
}
# A demo that takes more optimiser steps than this has become a run to ship. Steps, not seconds:
# a count is the same on every machine, where a busy neighbour can slow a step fifty-fold. (The
# target, at most 3 s of training per demo on 2 idle cores, is measured by `make bench`.)
DEMO_STEPS_LIMIT = 2_000


def install(shell):
    """Fail optimiser steps outside the demos' cells in ``shell`` (an IPython shell), and log the
    demos' training times, unless the seed is shifted or the shipped weights are off. Returns the
    hook's handle (``.remove()`` undoes it), or ``None``."""
    # imported here, so that the chapter's namespace, where a startup file runs, gains no names
    import json
    import os
    import time

    # as every chapter's first cell does before torch is imported, which this import comes before
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    shift = os.environ.get("VAE_UTILS_SEED_SHIFT", "0").strip() or "0"
    if shift != "0" or os.environ.get("VAE_UTILS_SHIPPED", "1") == "0":
        return None
    limit = DEMO_STEPS_LIMIT
    lines = [line for chapter in DEMOS.values() for line in chapter]
    cell = {"source": "", "demo": None, "steps": 0, "first": 0.0, "last": 0.0, "running": False}

    def before_cell(info) -> None:
        source = info.raw_cell or ""
        demo = next((line for line in lines if line in source), None)
        cell.update(source=source, demo=demo, steps=0, first=0.0, last=0.0, running=True)

    def step(optimizer, args, kwargs) -> None:
        if not cell["running"]:
            return  # a widget's callback between cells: the reader pressed a button to train
        if cell["demo"] is None:
            first_line = next((s for s in cell["source"].splitlines() if s.strip()), "")
            raise RuntimeError(
                "a chapter trained at the default seed, in the cell that starts "
                f"{first_line!r}: ship the run's weights (python scripts/train_course_models.py) "
                "or, if its training is the lesson, name the cell in DEMOS of "
                "tests/no_training_startup.py"
            )
        now = time.perf_counter()
        cell["first"] = cell["first"] or now
        cell["last"] = now
        cell["steps"] += 1
        if cell["steps"] > limit:
            raise RuntimeError(
                f"the demo {cell['demo']!r} takes more than {limit} optimiser steps: make it "
                "shorter, or ship its run"
            )

    def after_cell(result) -> None:
        cell["running"] = False
        if not cell["steps"]:
            return
        seconds = cell["last"] - cell["first"]
        log = os.environ.get("VAE_UTILS_TRAINING_LOG")
        if log:
            entry = {"demo": cell["demo"], "steps": cell["steps"], "seconds": round(seconds, 3)}
            with open(log, "a") as handle:
                handle.write(json.dumps(entry) + "\n")

    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", after_cell)
    return register_optimizer_step_pre_hook(step)


if __name__ == "__main__":  # a startup file, run in the chapter's namespace: leave no names in it
    install(get_ipython())  # noqa: F821
    del DEMOS, DEMO_STEPS_LIMIT, install
