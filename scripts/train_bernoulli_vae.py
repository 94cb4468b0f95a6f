"""Train the shipped Bernoulli-decoder VAE on dynamically binarised Fashion-MNIST.

    python scripts/train_bernoulli_vae.py            # under half an hour on 2 CPU cores
    python scripts/train_bernoulli_vae.py --epochs 2 --limit 1000 --output /tmp/check.safetensors
    python scripts/train_bernoulli_vae.py --prior vamp   # the VampPrior model, same settings

Writes ``vae_utils/weights/bernoulli_vae.safetensors.xz`` (weights in half precision, no
pickle, with the training settings and loss history as metadata, xz-compressed as the course's
shipped runs are; an ``--output`` not ending in ``.xz`` is left uncompressed) and prints its
SHA-256, which goes into
``vae_utils.bernoulli.SHIPPED_SHA256``. Then run ``scripts/evaluate_bernoulli_vae.py``. With
``--prior vamp`` the prior is a VampPrior (Tomczak and Welling 2018) over ``--pseudo-inputs``
learned pseudo-inputs, which start as that many training images; the weights go to
``vae_utils/weights/vampprior_vae.safetensors.xz`` (``VAMPPRIOR_SHA256``).

The protocol of the density-estimation literature (e.g. Tomczak and Welling 2018; Norouzi et al.
2020): an MLP encoder and decoder with two hidden layers of 300 units, 40 latent dimensions, a
fresh binarisation of every training image at every step, Adam, and a KL warm-up. The published
models differ in their layers and training (gated hidden layers, their own learning rate and
early stopping on a validation split); this one has plain ReLU layers and uses all 60,000
training images for a fixed number of epochs, with a cosine-decaying learning rate. The test
images are never looked at. The time of each run is stored in the weights' metadata (``minutes``).

Where the time went (2 cores, 784-300-300-40 at batch 100), 46 minutes before: a step took 6.7 ms
with plain Adam and 5.0 ms with its update fused into one kernel (:func:`vae_utils.train.adam`),
but a run still slowed down as it went, from 2.8 s to 4.2 s an epoch: once latent dimensions
collapse, Adam's second moments of their weights become denormal floats, which x86 computes
slowly. Flushed to zero, every epoch stays near the first ones' speed. ``torch.compile`` saved
another 9 % per step for 22 s of compiling; not worth a dependency on a C++ compiler.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import time
from pathlib import Path

import torch
from tqdm import tqdm

import vae_utils as vu
from vae_utils.bernoulli import (
    BERNOULLI_WEIGHTS,
    VAMPPRIOR_WEIGHTS,
    BernoulliVAE,
)
from vae_utils.objective import elbo_objective
from vae_utils.train import adam


def argument_parser() -> argparse.ArgumentParser:
    """The script's options; their defaults made the shipped weights (a test checks)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, help="default: 500, or 300 with --prior vamp (3x the cost a step)"
    )
    parser.add_argument("--warmup-epochs", type=int, default=50, help="KL weight 0 -> 1")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3, help="decays to lr / 100 (cosine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="train on the first LIMIT images (a quick check)")
    parser.add_argument("--prior", choices=("standard", "vamp"), default="standard")
    parser.add_argument("--pseudo-inputs", type=int, default=500, help="K of the VampPrior")
    parser.add_argument("--output", type=Path, help="default: the shipped file of the prior")
    return parser


def parse_settings(argv: list[str] | None = None) -> argparse.Namespace:
    """The options with the defaults that depend on ``--prior`` filled in."""
    args = argument_parser().parse_args(argv)
    if args.epochs is None:
        args.epochs = 500 if args.prior == "standard" else 300
    if args.output is None:
        args.output = BERNOULLI_WEIGHTS if args.prior == "standard" else VAMPPRIOR_WEIGHTS
    return args


def main() -> None:
    args = parse_settings()

    # Once latent dimensions collapse, Adam's second moments of their weights fall below float32's
    # normal range; denormal arithmetic is slow on x86. Flushed to zero (in the threads started
    # later too), an epoch stays at the speed of the first ones.
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    x, _ = vu.load_fashion_mnist("train", limit=args.limit)
    model = BernoulliVAE()
    if args.prior == "vamp":
        # the pseudo-inputs start as K training images, drawn with the run's seed
        model.prior = vu.priors.VampPrior(x[torch.randperm(len(x))[: args.pseudo_inputs]])
    optimizer = adam(list(model.parameters()), args.lr)
    steps_per_epoch = math.ceil(len(x) / args.batch_size)
    total_steps = args.epochs * steps_per_epoch

    def learning_rate(step: int) -> float:
        # cosine from lr to lr / 100 over the whole run
        return args.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * step / total_steps)))

    history: list[float] = []
    start, step = time.perf_counter(), 0
    with tqdm(range(args.epochs), desc="Bernoulli VAE", unit="epoch") as bar:
        for epoch in bar:
            kl_weight = vu.remedies.kl_warmup(
                epoch, args.warmup_epochs
            )  # 1/50, 2/50, ... 1 (Bowman et al.)
            order = torch.randperm(len(x))
            total = torch.zeros(())
            for begin in range(0, len(x), args.batch_size):
                batch = torch.bernoulli(x[order[begin : begin + args.batch_size]])
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step)
                loss = elbo_objective(model, batch, kl_weight=kl_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(batch)
                step += 1
            history.append(total.item() / len(x))
            bar.set_postfix(loss=f"{history[-1]:.2f}", kl_weight=f"{kl_weight:.2f}")

    model.eval()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    minutes = (time.perf_counter() - start) / 60
    metadata = {"settings": settings, "history": history, "minutes": minutes, "dtype": "float16"}
    # half precision: half the repository's MB; xz: 9 % less for this model, 27 % for the
    # VampPrior's pseudo-inputs
    vu.cache.save_shipped_weights(model, args.output, metadata)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"trained in {minutes:.1f} min; last epoch's loss {history[-1]:.2f} nats")
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.2f} MB), sha256 {digest}")


if __name__ == "__main__":
    main()
