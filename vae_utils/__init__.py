"""Code for the course *Understanding Variational Autoencoders*: data, models, losses, training,
plots and a cache for weights. The notebooks narrate; this package computes."""

from vae_utils.bernoulli import (
    BernoulliVAE,
    bernoulli_log_likelihood,
    bernoulli_negative_elbo,
    binarize,
    load_shipped_bernoulli_vae,
    shipped_bernoulli_record,
)
from vae_utils.cache import (
    cache_root,
    code_fingerprint,
    load_or_train,
    load_weights,
    read_metadata,
    save_weights,
)
from vae_utils.claims import ClaimError, check, glue
from vae_utils.classifier import Classifier, accuracy, classifier_objective
from vae_utils.collapse import active_units, kl_per_dimension
from vae_utils.conditional import ConditionalVAE, conditional_vae_objective
from vae_utils.conv import ConvVAE
from vae_utils.data import CLASS_NAMES, load_fashion_mnist
from vae_utils.latent import interpolate, latent_grid, sample_box, sample_fitted_normal, traverse
from vae_utils.likelihood import (
    PPCA,
    elbo,
    fit_ppca,
    importance_weighted_bound,
    ppca_log_likelihood,
    ppca_posterior,
)
from vae_utils.losses import (
    autoencoder_objective,
    calibrated_vae_objective,
    gaussian_log_likelihood,
    kl_to_standard_normal,
    reconstruction_error,
    vae_loss,
    vae_objective,
)
from vae_utils.metrics import median_bandwidth, mmd
from vae_utils.models import (
    VAE,
    Autoencoder,
    BaseVAE,
    mlp,
    mlp_encoder_decoder,
    reparameterize,
)
from vae_utils.pca import PCA, fit_pca, principal_angles
from vae_utils.plots import (
    CLASS_COLORS,
    LINE_COLORS,
    image_grid,
    plot_images,
    plot_latent_scatter,
    plot_loss_curves,
)
from vae_utils.recipes import (
    data_fingerprint,
    train_autoencoder,
    train_calibrated_vae,
    train_classifier,
    train_conditional_vae,
    train_conv_vae,
    train_or_load,
    train_vae,
    train_vae_sweep,
)
from vae_utils.remedies import KLWarmup, annealed_vae_objective, free_bits_kl, kl_warmup
from vae_utils.seeds import generator, seed_shift, set_seed
from vae_utils.train import TrainConfig, fit, fit_together
from vae_utils.vq import (
    VQVAE,
    VectorQuantizer,
    VQOutput,
    code_usage,
    perplexity,
    reinit_dead_codes,
    vqvae_objective,
)
from vae_utils.widgets import figure_to_png, image_slider, live_slider

__all__ = [
    "CLASS_COLORS",
    "CLASS_NAMES",
    "LINE_COLORS",
    "PCA",
    "PPCA",
    "VAE",
    "VQVAE",
    "Autoencoder",
    "BaseVAE",
    "BernoulliVAE",
    "ClaimError",
    "Classifier",
    "ConditionalVAE",
    "ConvVAE",
    "KLWarmup",
    "TrainConfig",
    "VQOutput",
    "VectorQuantizer",
    "accuracy",
    "active_units",
    "annealed_vae_objective",
    "autoencoder_objective",
    "bernoulli_log_likelihood",
    "bernoulli_negative_elbo",
    "binarize",
    "cache_root",
    "calibrated_vae_objective",
    "check",
    "classifier_objective",
    "code_fingerprint",
    "code_usage",
    "conditional_vae_objective",
    "data_fingerprint",
    "elbo",
    "figure_to_png",
    "fit",
    "fit_pca",
    "fit_ppca",
    "fit_together",
    "free_bits_kl",
    "gaussian_log_likelihood",
    "generator",
    "glue",
    "image_grid",
    "image_slider",
    "importance_weighted_bound",
    "interpolate",
    "kl_per_dimension",
    "kl_to_standard_normal",
    "kl_warmup",
    "latent_grid",
    "live_slider",
    "load_fashion_mnist",
    "load_or_train",
    "load_shipped_bernoulli_vae",
    "load_weights",
    "median_bandwidth",
    "mlp",
    "mlp_encoder_decoder",
    "mmd",
    "perplexity",
    "plot_images",
    "plot_latent_scatter",
    "plot_loss_curves",
    "ppca_log_likelihood",
    "ppca_posterior",
    "principal_angles",
    "read_metadata",
    "reconstruction_error",
    "reinit_dead_codes",
    "reparameterize",
    "sample_box",
    "sample_fitted_normal",
    "save_weights",
    "seed_shift",
    "set_seed",
    "shipped_bernoulli_record",
    "train_autoencoder",
    "train_calibrated_vae",
    "train_classifier",
    "train_conditional_vae",
    "train_conv_vae",
    "train_or_load",
    "train_vae",
    "train_vae_sweep",
    "traverse",
    "vae_loss",
    "vae_objective",
    "vqvae_objective",
]
__version__ = "0.1.0"
