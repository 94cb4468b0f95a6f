"""Estimate the test log-likelihood of the shipped Bernoulli VAE with k = 5000 importance samples.

    python scripts/evaluate_bernoulli_vae.py                 # about 7 minutes on 2 CPU cores
    python scripts/evaluate_bernoulli_vae.py --prior vamp    # the VampPrior model, 9 minutes

The protocol of Burda et al. (2015), as in the density-estimation tables (e.g. Norouzi et al.
2020): the 10,000 test images binarised once (here with seed 0), and for each image the bound
L_k with k = 5000 draws from q(z | x). Writes the result next to the weights
(``vae_utils/weights/bernoulli_vae_test_ll.json``, or ``vampprior_vae_test_ll.json``); the
log-likelihood chapter quotes it.

    python scripts/evaluate_bernoulli_vae.py --record runs/vamp/best.safetensors.xz --seed 777

evaluates a model of ``scripts/train_record.py`` instead, on the test images binarised as the
published protocol does (seed 777), and keeps every image's L_k and ELBO next to the result
(``*.per_image.safetensors``), so that two models' difference can be given a paired standard
error.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from tqdm import tqdm

import vae_utils as vu
from vae_utils.bernoulli import (
    BERNOULLI_RESULT,
    VAMPPRIOR_RESULT,
    binarize,
    load_shipped_bernoulli_vae,
    load_vampprior_vae,
)
from vae_utils.record import GatedTwoLevelVAE, importance_weighted_bound, load_record_vae


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=5000, help="k")
    parser.add_argument("--batch-size", type=int, default=50, help="test images at a time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior", choices=("standard", "vamp"), default="standard")
    parser.add_argument("--output", type=Path, help="default: next to the shipped weights")
    parser.add_argument(
        "--weights", type=Path, help="a new model's weights (not checksummed); default: shipped"
    )
    parser.add_argument("--record", type=Path, help="a record model's weights (train_record.py)")
    parser.add_argument("--limit", type=int, help="the first LIMIT test images (a quick check)")
    args = parser.parse_args(argv)

    load = load_shipped_bernoulli_vae if args.prior == "standard" else load_vampprior_vae
    if args.record is not None:
        model = load_record_vae(args.record)
        args.prior = "vamp" if isinstance(model.prior, vu.priors.VampPrior) else "standard"
        if args.output is None:
            args.output = args.record.parent / "test_ll.json"
    elif args.weights is None:
        model = load()  # checksum verified
    else:
        model = load(args.weights, sha256=None)
    if args.output is None:
        args.output = BERNOULLI_RESULT if args.prior == "standard" else VAMPPRIOR_RESULT
    x, _ = vu.load_fashion_mnist("test", limit=args.limit)
    x = binarize(x, torch.Generator().manual_seed(args.seed))
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    log_likelihood, elbo = [], []
    for begin in tqdm(
        range(0, len(x), args.batch_size), desc=f"L_{args.num_samples}", unit="batch"
    ):
        batch = x[begin : begin + args.batch_size]
        if isinstance(model, GatedTwoLevelVAE):
            log_likelihood.append(importance_weighted_bound(model, batch, args.num_samples))
            with torch.no_grad():
                elbo.append(model.log_weights(batch, 100).mean(dim=0))
        else:
            log_likelihood.append(
                vu.importance_weighted_bound(model, batch, None, args.num_samples)
            )
            elbo.append(vu.elbo(model, batch, None, num_samples=100))
    log_likelihood, elbo = torch.cat(log_likelihood).double(), torch.cat(elbo).double()
    mean = log_likelihood.mean().item()
    standard_error = log_likelihood.std().item() / math.sqrt(len(x))
    result = {
        "prior": args.prior,
        "num_samples": args.num_samples,
        "num_images": len(x),
        "binarization_seed": args.seed,
        "log_likelihood_nats": round(mean, 3),
        "standard_error_nats": round(standard_error, 3),
        "bits_per_dim": round(-mean / (784 * math.log(2)), 4),
        "elbo_nats": round(elbo.mean().item(), 3),
        "minutes": round((time.perf_counter() - start) / 60, 1),
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    if args.record is not None:  # every image's values, for paired differences between models
        per_image = {"log_likelihood": log_likelihood, "elbo": elbo}
        save_file(per_image, args.output.with_suffix(".per_image.safetensors"))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
