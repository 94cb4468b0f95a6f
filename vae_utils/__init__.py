"""Code for the course *Understanding Variational Autoencoders*: data, models, losses, training,
plots and a cache for weights. The notebooks narrate; this package computes.

The names here are the lesson of Parts I to III (chapters 1 to 10) and the recipes that train the
course's models. The tools of Part IV, and what the course runs on, are reached through their
module, as ``vu.vq.VQVAE`` or ``vu.claims.check`` (see vae_utils/README.md for the map).
"""

from vae_utils import (
    bernoulli,  # the Bernoulli VAE and the shipped density-estimation models (chapters 10, 12)
    claims,  # vu.claims.check and vu.claims.glue: the chapters' hidden checks and glued numbers
    classifier,  # the classifier that judges generated images (chapter 8)
    code_prior,  # priors over a VQ-VAE's codes (chapter 14)
    exercises,  # vu.exercises.check("kl_to_standard_normal", my_kl)
    learned_prior,  # training with a learned prior, ELBO surgery (chapter 12)
    priors,  # N(0, I), a mixture of Gaussians, the VampPrior (chapter 12)
    remedies,  # KL warm-up, cyclical annealing, free bits (chapter 11)
    sharpness,  # why samples blur (chapter 13)
    vq,  # the VQ-VAE (chapter 14)
    widgets,  # sliders over pictures and over a live training
)
from vae_utils.collapse import active_units, free_bits_kl, kl_per_dimension
from vae_utils.conditional import ConditionalVAE
from vae_utils.conv import ConvVAE
from vae_utils.data import CLASS_NAMES, load_fashion_mnist
from vae_utils.explorer import latent_explorer
from vae_utils.latent import interpolate, latent_grid, sample_box, sample_fitted_normal, traverse
from vae_utils.likelihood import elbo, importance_weighted_bound
from vae_utils.losses import (
    calibrated_vae_objective,
    gaussian_log_likelihood,
    kl_to_standard_normal,
    reconstruction_error,
    vae_loss,
    vae_objective,
)
from vae_utils.metrics import median_bandwidth, mmd
from vae_utils.models import VAE, Autoencoder, reparameterize
from vae_utils.objective import elbo_objective
from vae_utils.pca import (
    PPCA,
    fit_pca,
    fit_ppca,
    ppca_log_likelihood,
    ppca_posterior,
    principal_angles,
)
from vae_utils.plots import LINE_COLORS, plot_images, plot_latent_scatter, plot_loss_curves
from vae_utils.recipes import (
    train_autoencoder,
    train_calibrated_vae,
    train_classifier,
    train_conditional_vae,
    train_conv_vae,
    train_or_load,
    train_two_level_vae,
    train_vae,
    train_vae_sweep,
    train_vae_with_prior,
    train_vae_with_remedy,
    train_vqvae,
)
from vae_utils.seeds import generator, set_seed
from vae_utils.train import TrainConfig, fit, fit_together

__all__ = [
    "CLASS_NAMES",
    "LINE_COLORS",
    "PPCA",
    "VAE",
    "Autoencoder",
    "ConditionalVAE",
    "ConvVAE",
    "TrainConfig",
    "active_units",
    "bernoulli",
    "calibrated_vae_objective",
    "claims",
    "classifier",
    "code_prior",
    "elbo",
    "elbo_objective",
    "exercises",
    "fit",
    "fit_pca",
    "fit_ppca",
    "fit_together",
    "free_bits_kl",
    "gaussian_log_likelihood",
    "generator",
    "importance_weighted_bound",
    "interpolate",
    "kl_per_dimension",
    "kl_to_standard_normal",
    "latent_explorer",
    "latent_grid",
    "learned_prior",
    "load_fashion_mnist",
    "median_bandwidth",
    "mmd",
    "plot_images",
    "plot_latent_scatter",
    "plot_loss_curves",
    "ppca_log_likelihood",
    "ppca_posterior",
    "principal_angles",
    "priors",
    "reconstruction_error",
    "remedies",
    "reparameterize",
    "sample_box",
    "sample_fitted_normal",
    "set_seed",
    "sharpness",
    "train_autoencoder",
    "train_calibrated_vae",
    "train_classifier",
    "train_conditional_vae",
    "train_conv_vae",
    "train_or_load",
    "train_two_level_vae",
    "train_vae",
    "train_vae_sweep",
    "train_vae_with_prior",
    "train_vae_with_remedy",
    "train_vqvae",
    "traverse",
    "vae_loss",
    "vae_objective",
    "vq",
    "widgets",
]
__version__ = "0.1.0"
