"""Train the likelihood record's VampPrior VAEs by the published protocol, resumably (issue 32).

    python scripts/train_record.py --checkpoint runs/vamp     # hours; resumes where it stopped
    python scripts/train_record.py --checkpoint runs/vamp --minutes 170   # then stop cleanly
    python scripts/train_record.py --checkpoint /tmp/check --limit 500 --epochs 3 --pseudo-inputs 6
    python scripts/train_record.py --checkpoint runs/hvae --levels 2   # the two-level model

The protocol of Tomczak and Welling (2018)'s code, which the Exemplar VAE's (Norouzi et al. 2020)
follows: the first 50,000 training images train, the last 10,000 validate; training images are
binarised afresh at every step, validation images once (seed 777); gated 300-unit layers, 40
latent dimensions, log-variances clipped to [-6, 2] (:class:`vae_utils.record.GatedBernoulliVAE`,
or with ``--levels 2`` their two-level model, :class:`vae_utils.record.GatedTwoLevelVAE`);
a VampPrior of 500 pseudo-inputs; Adam at 5e-4 on gradients normalised tensor by tensor, batches
of 100; the KL weight warmed up linearly over 100 epochs; at most 2,000 epochs, stopped after 50
without a better validation ELBO; the best validation checkpoint is the result. Where this run
differs: the pseudo-inputs start as 500 training images (the reference code's default draws them
around a constant), and the validation ELBO is estimated from one draw of z per image, with the
same draws at every epoch, so that epochs are compared on equal terms.

A checkpoint (``--checkpoint DIR``) is written after every epoch, atomically, without pickle:
``state.safetensors`` (the weights, the best weights, Adam's moments, the random generators'
states) and ``state.json`` (the epoch, the curves, the settings). Run the same command again and
training continues from it, bit for bit as if it had not stopped; a checkpoint made with other
settings is refused. When training ends the best weights go to ``--output`` in half precision
(xz-compressed when the name ends in ``.xz``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

import vae_utils as vu
from vae_utils.bernoulli import binarize
from vae_utils.cache import save_shipped_weights
from vae_utils.likelihood import elbo
from vae_utils.objective import elbo_objective
from vae_utils.record import GatedBernoulliVAE, GatedTwoLevelVAE, normalise_gradients

TRAIN_IMAGES = 50_000  # the rest of the 60,000 validate
VALIDATION_SEED = 777  # the validation images' one binarisation, as in the reference code
# what may change between sittings of one run (the epochs: a cap that may be raised); every other
# setting must match the checkpoint
PER_SITTING = {"checkpoint", "minutes", "output", "device", "epochs"}


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="a folder; resumed if set")
    parser.add_argument("--output", type=Path, help="default: CHECKPOINT/best.safetensors.xz")
    parser.add_argument("--minutes", type=float, help="stop cleanly after this many minutes")
    parser.add_argument("--device", default="cpu", help="e.g. cuda")
    parser.add_argument("--epochs", type=int, default=2000, help="at most")
    parser.add_argument("--patience", type=int, default=50, help="epochs without a better ELBO")
    parser.add_argument("--warmup-epochs", type=int, default=100, help="KL weight 0 -> 1")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--pseudo-inputs", type=int, default=500, help="K of the VampPrior")
    parser.add_argument("--levels", type=int, choices=(1, 2), default=1, help="stochastic layers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="train on LIMIT images only (a quick check)")
    return parser


def split(limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images (grey levels, binarised at each step) and the validation images,
    binarised once."""
    x, _ = vu.load_fashion_mnist("train")
    train = x[: min(limit or TRAIN_IMAGES, TRAIN_IMAGES)]
    validation = binarize(x[TRAIN_IMAGES:], torch.Generator().manual_seed(VALIDATION_SEED))
    return train, validation


def objective(
    model: GatedBernoulliVAE | GatedTwoLevelVAE, x: torch.Tensor, kl_weight: float
) -> torch.Tensor:
    """The batch's loss: the negative ELBO with the KL terms weighed by ``kl_weight``."""
    if isinstance(model, GatedTwoLevelVAE):
        return model.objective(x, kl_weight)
    return elbo_objective(model, x, kl_weight=kl_weight)


def validation_elbo(
    model: GatedBernoulliVAE | GatedTwoLevelVAE, x: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """The mean ELBO of ``x`` at one draw per image (the same draws at every epoch)."""
    if isinstance(model, GatedTwoLevelVAE):
        return model.log_weights(x, 1, generator).mean()
    return elbo(model, x, None, generator=generator).mean()


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Adam's state as named tensors: ``optim.<i>.<name>`` for the i-th parameter."""
    state = optimizer.state_dict()["state"]
    return {f"optim.{i}.{name}": t for i, entry in state.items() for name, t in entry.items()}


def load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict(
        {"state": state, "param_groups": optimizer.state_dict()["param_groups"]}
    )


def save_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], record: dict) -> None:
    """Write both files to temporary names, then rename: a crash leaves the last checkpoint."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, folder / "state.safetensors.tmp")
    (folder / "state.json.tmp").write_text(json.dumps(record, indent=1))
    os.replace(folder / "state.safetensors.tmp", folder / "state.safetensors")
    os.replace(folder / "state.json.tmp", folder / "state.json")


def main(argv: list[str] | None = None) -> None:
    args = argument_parser().parse_args(argv)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    run = {k: v for k, v in settings.items() if k not in PER_SITTING}
    output = args.output or args.checkpoint / "best.safetensors.xz"
    device = torch.device(args.device)

    torch.manual_seed(args.seed)
    train, validation = split(args.limit)
    model = GatedBernoulliVAE() if args.levels == 1 else GatedTwoLevelVAE()
    # the pseudo-inputs start as K training images, drawn with the run's seed
    init = train[torch.randperm(len(train))[: args.pseudo_inputs]]
    model.prior = vu.priors.VampPrior(init)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    data = torch.Generator().manual_seed(args.seed + 1)  # the order and binarisation of batches
    record = {"run": run, "epoch": 0, "train_loss": [], "validation_elbo": [], "best_epoch": -1}
    record["minutes"] = 0.0
    best = {name: t.clone() for name, t in model.state_dict().items()}

    state_file = args.checkpoint / "state.safetensors"
    if state_file.exists():
        record = json.loads((args.checkpoint / "state.json").read_text())
        if record["run"] != run:
            raise SystemExit(
                f"{args.checkpoint} holds a run with other settings: {record['run']}; give "
                "another --checkpoint, or the same settings"
            )
        tensors = load_file(state_file)
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        load_optimizer(optimizer, tensors)
        data.set_state(tensors["rng.data"])
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng.cuda"])
        print(f"resumed at epoch {record['epoch']} from {args.checkpoint}")

    validation = validation.to(device)
    start = time.perf_counter()
    minutes_before = record["minutes"]
    while record["epoch"] < args.epochs:
        epoch = record["epoch"]
        since_best = epoch - 1 - record["best_epoch"]
        if record["best_epoch"] >= 0 and since_best >= args.patience:
            break
        if args.minutes is not None and (time.perf_counter() - start) / 60 > args.minutes:
            print(f"stopped after {args.minutes} minutes at epoch {epoch}; run again to resume")
            return
        kl_weight = min(1.0, (epoch + 1) / args.warmup_epochs)  # linear warm-up
        model.train()
        order = torch.randperm(len(train), generator=data)
        total = 0.0
        for batch in tqdm(order.split(args.batch_size), desc=f"epoch {epoch + 1}", leave=False):
            x = binarize(train[batch], data).to(device)
            loss = objective(model, x, kl_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            normalise_gradients(model.parameters())
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        # the same draws of z at every epoch, so that epochs are compared on equal terms
        fixed = torch.Generator(device=device).manual_seed(args.seed + 2)
        with torch.no_grad():
            score = validation_elbo(model, validation, fixed).item()
        record["train_loss"].append(total / len(train))
        record["validation_elbo"].append(score)
        if record["best_epoch"] < 0 or score > record["validation_elbo"][record["best_epoch"]]:
            record["best_epoch"] = epoch
            best = {name: t.detach().clone() for name, t in model.state_dict().items()}
        record["epoch"] = epoch + 1
        record["minutes"] = minutes_before + (time.perf_counter() - start) / 60
        tensors = {
            **{f"model.{k}": v.detach().cpu() for k, v in model.state_dict().items()},
            **{f"best.{k}": v.detach().cpu() for k, v in best.items()},
            **{k: v.cpu() for k, v in optimizer_tensors(optimizer).items()},
            "rng.data": data.get_state(),
            "rng.torch": torch.get_rng_state(),
            **({"rng.cuda": torch.cuda.get_rng_state()} if device.type == "cuda" else {}),
        }
        save_checkpoint(args.checkpoint, tensors, record)
        print(
            f"epoch {epoch + 1}: train loss {record['train_loss'][-1]:.2f}, validation ELBO "
            f"{score:.2f} (best {record['validation_elbo'][record['best_epoch']]:.2f} at epoch "
            f"{record['best_epoch'] + 1}), {record['minutes']:.1f} min",
            flush=True,
        )

    model.load_state_dict(best)
    metadata = {"settings": run, "record": record, "dtype": "float16"}
    save_shipped_weights(model.cpu(), output, metadata)
    print(f"best epoch {record['best_epoch'] + 1} of {record['epoch']}; wrote {output}")


if __name__ == "__main__":
    main()
