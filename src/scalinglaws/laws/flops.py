"""Compute accounting: FLOPs, parameter counts and PF-days.

Kaplan's critical batch size and the least steps and compute it implies
(:func:`critical_batch_size`, :func:`min_steps`, :func:`min_compute` and their constants)
live in :mod:`scalinglaws.laws.critical_batch` and are importable from here.

Conventions
-----------
* One multiply-accumulate is 2 FLOPs; the backward pass costs 2x the forward
  pass, so training costs 3x forward, i.e. about ``6 N`` FLOPs per token.
* One PF-day is ``1e15 * 24 * 3600 = 8.64e19`` FLOP (Brown et al. 2020,
  App D; Kaplan et al. 2020).
* **Kaplan's N excludes embeddings; Hoffmann's N includes them.**
  :func:`kaplan_params` follows Kaplan et al. 2020 (arXiv 2001.08361) Eq 2.1;
  :func:`hoffmann_params` reproduces the totals of Hoffmann et al. 2022
  (arXiv 2203.15556) Table A9.

Every function takes scalars or array-likes (broadcast with numpy) and returns a
``float`` for scalar input, an ``ndarray`` otherwise. Integer arguments are
converted to float64 before multiplying, so large configurations do not
overflow. Invalid arguments raise :class:`~scalinglaws.InputError` naming the
argument.
"""

from __future__ import annotations


import numpy as np

from .._exceptions import InputError
from .._validation import check_bool, check_numbers, renamed_argument
# the argument check and return rule (shared by the stage; re-exported from here) and
# Kaplan's critical batch (its own module; re-exported, the names users import from here)
from ._quantity_checks import as_output, check_quantity
from .critical_batch import (KAPLAN_ALPHA_B, KAPLAN_B_STAR, KAPLAN_B_STAR_TABLE5,  # noqa: F401
                             critical_batch_size, min_compute, min_steps)

_check = check_quantity
_out = as_output

__all__ = [
    "PF_DAY",
    "KAPLAN_B_STAR",
    "KAPLAN_B_STAR_TABLE5",
    "KAPLAN_ALPHA_B",
    "flops_to_pf_days",
    "pf_days_to_flops",
    "training_flops",
    "training_flops_per_token",
    "tokens_for_compute",
    "params_for_compute",
    "inputs_from_compute",
    "kaplan_params",
    "kaplan_forward_flops_per_token",
    "kaplan_training_flops_per_token",
    "hoffmann_forward_flops",
    "hoffmann_training_flops",
    "hoffmann_params",
    "inference_flops_per_token",
    "critical_batch_size",
    "min_steps",
    "min_compute",
]

PF_DAY = 8.64e19
"""FLOP in one petaflop/s-day: 1e15 FLOP/s x 86400 s."""


# --------------------------------------------------------------------------- units
def flops_to_pf_days(flops):
    """Convert FLOP to PF-days.

    ``pf_days = flops / 8.64e19`` (Brown et al. 2020, App D Table D.1 caption;
    Kaplan et al. 2020 Sec 1.3).

    Parameters
    ----------
    flops : float or array_like
        Compute in FLOP (non-negative, finite).

    Returns
    -------
    float or ndarray
        Compute in PF-days.
    """
    return _out(_check("flops", flops, allow_zero=True) / PF_DAY)


def pf_days_to_flops(pf_days):
    """Convert PF-days to FLOP: ``flops = pf_days * 8.64e19``.

    Parameters
    ----------
    pf_days : float or array_like
        Compute in PF-days (non-negative, finite).

    Returns
    -------
    float or ndarray
        Compute in FLOP.
    """
    return _out(_check("pf_days", pf_days, allow_zero=True) * PF_DAY)


# --------------------------------------------------------------------------- C = k N D
def training_flops(N=None, D=None, flops_per_token=None, *, batch_size=None, steps=None,
                   n_params=None, n_tokens=None, flops_per_param_token=None):
    """Training compute ``C = k N D``, or ``C = k N B S`` from the batch and the steps.

    ``k = 6`` (2 FLOPs per multiply-accumulate x 3 for forward + backward) is Kaplan et
    al. 2020 Sec 2.1 (``C = 6 N B S``, with ``B`` the batch in tokens and ``S`` the
    steps) and Hoffmann et al. 2022; Brown et al. 2020 Table D.1 uses ``k = 3`` for T5
    (half the parameters active). Give either ``D`` or both ``batch_size`` and ``steps``
    (then ``D = B S``).

    Parameters
    ----------
    N : float or array_like
        Parameters (positive). Kaplan count non-embedding parameters, Hoffmann all.
    D : float or array_like, optional
        Training tokens (positive).
    flops_per_token : float or array_like, default 6.0
        FLOPs per parameter per token, k (positive).
    batch_size, steps : float or array_like, optional
        Batch size B in tokens and optimisation steps S, instead of ``D``.
    n_params, n_tokens, flops_per_param_token :
        Deprecated names of ``N``, ``D`` and ``flops_per_token``.

    Returns
    -------
    float or ndarray
        Training FLOPs.

    Examples
    --------
    >>> training_flops(70e9, 1.4e12)                       # Chinchilla: 5.88e23
    5.88e+23
    >>> training_flops(1.5e9, batch_size=2**19, steps=2.5e5) == 6 * 1.5e9 * 2**19 * 2.5e5
    True
    """
    N = renamed_argument("n_params", "N", n_params, N, None)
    D = renamed_argument("n_tokens", "D", n_tokens, D, None)
    k = renamed_argument("flops_per_param_token", "flops_per_token", flops_per_param_token,
                 flops_per_token, 6.0)
    if N is None:
        raise InputError("N (parameters) is required")
    n = _check("N", N)
    k = _check("flops_per_token", k)
    if D is not None:
        if batch_size is not None or steps is not None:
            raise InputError("give D, or batch_size and steps, not both")
        return _out(k * n * _check("D", D))
    if batch_size is None or steps is None:
        missing = "D" if batch_size is None and steps is None else (
            "steps" if steps is None else "batch_size")
        raise InputError(f"{missing} is required (give D, or batch_size and steps)")
    b = _check("batch_size", batch_size)
    s = _check("steps", steps)
    return _out(k * n * b * s)


def tokens_for_compute(compute, N=None, flops_per_token=None, *, n_params=None,
                       flops_per_param_token=None):
    """Tokens affordable with a compute budget: ``D = C / (k * N)``.

    Parameters
    ----------
    compute : float or array_like
        Budget C in FLOP (positive).
    N : float or array_like
        Parameters (positive).
    flops_per_token : float or array_like, default 6.0
        k in ``C = k N D``.
    n_params, flops_per_param_token :
        Deprecated names of ``N`` and ``flops_per_token``.

    Returns
    -------
    float or ndarray
        Tokens D.
    """
    N = renamed_argument("n_params", "N", n_params, N, None)
    k = renamed_argument("flops_per_param_token", "flops_per_token", flops_per_param_token,
                 flops_per_token, 6.0)
    return _other_factor(compute, "N", N, k)


def params_for_compute(compute, D=None, flops_per_token=None, *, n_tokens=None,
                       flops_per_param_token=None):
    """Model size affordable with a compute budget: ``N = C / (k * D)``.

    Parameters
    ----------
    compute : float or array_like
        Budget C in FLOP (positive).
    D : float or array_like
        Training tokens (positive).
    flops_per_token : float or array_like, default 6.0
        k in ``C = k N D``.
    n_tokens, flops_per_param_token :
        Deprecated names of ``D`` and ``flops_per_token``.

    Returns
    -------
    float or ndarray
        Parameters N.
    """
    D = renamed_argument("n_tokens", "D", n_tokens, D, None)
    k = renamed_argument("flops_per_param_token", "flops_per_token", flops_per_param_token,
                 flops_per_token, 6.0)
    return _other_factor(compute, "D", D, k)


def _other_factor(compute, name, value, flops_per_token):
    """``C = k N D`` solved for the factor not given: ``C / (k * value)``, ``value`` being
    ``N`` or ``D`` (named ``name``); checked in the order compute, ``name``, k."""
    c = _check("compute", compute)
    x = _check(name, value)
    k = _check("flops_per_token", flops_per_token)
    return _out(c / (k * x))


def inputs_from_compute(inputs, names, flops_per_token):
    """A law's inputs with the one of ``N`` and ``D`` not given derived from ``C = k N D``.

    For a law of ``N`` and ``D`` (``names``, not taking ``C`` itself) given ``C`` and
    exactly one of ``N``, ``D``: the other is ``C / (k x)`` (:func:`tokens_for_compute`,
    :func:`params_for_compute`) and ``C`` is dropped, as a user who asks for "the 7B
    model at 1e22 FLOP" means. Any other ``inputs`` are returned as given (a copy), ``C``
    included, for the caller to use or refuse.

    Parameters
    ----------
    inputs : mapping
        Input name to value (numbers or text such as ``"7B"``; arrays broadcast).
    names : sequence of str
        The law's inputs.
    flops_per_token : float
        k in ``C = k N D`` (the fit's :attr:`~scalinglaws.FitResult.flops_per_token`).

    Returns
    -------
    dict

    Examples
    --------
    >>> inputs_from_compute({"N": 1e9, "C": 1.2e20}, ("N", "D"), 6.0)
    {'N': 1000000000.0, 'D': 20000000000.0}
    """
    out = {name: value for name, value in inputs.items() if value is not None}
    if ("C" not in out or "C" in names or not {"N", "D"} <= set(names)
            or ("N" in out) == ("D" in out)):
        return out
    given = "N" if "N" in out else "D"
    compute = check_numbers("C", out.pop("C"), positive=True)
    value = check_numbers(given, out[given], positive=True)
    try:
        np.broadcast_shapes(compute.shape, value.shape)
    except ValueError:
        raise InputError(f"inputs C and {given} do not broadcast: shapes {compute.shape} "
                         f"and {value.shape}") from None
    derive = tokens_for_compute if given == "N" else params_for_compute
    out["D" if given == "N" else "N"] = derive(compute, value, flops_per_token)
    return out


def training_flops_per_token(N, *, d_model=None, n_vocab=None, n_layer=None, n_ctx=None):
    """Training FLOPs per token with or without the output layer and the attention context.

    ``6 N`` counts the non-embedding parameters only (Kaplan et al. 2020 Sec 2.1: they
    exclude embeddings from N and from C). Giving ``d_model`` and ``n_vocab`` adds the
    output (unembedding) matrix, ``6 n_vocab d_model``: the "count the last layer"
    correction of Porian et al. 2024 (the input embedding is a lookup and costs no
    multiply). Giving ``n_layer`` and ``n_ctx`` (with ``d_model``) adds Kaplan's Eq 2.2
    context term times 3, ``6 n_layer n_ctx d_model``, which is Porian et al.'s
    attention accounting.

    Parameters
    ----------
    N : float or array_like
        Non-embedding parameters.
    d_model, n_vocab, n_layer, n_ctx : int or array_like, optional
        Shape; see above.

    Returns
    -------
    float or ndarray
        FLOPs per training token.

    Examples
    --------
    >>> n = kaplan_params(48, 1600)
    >>> training_flops_per_token(n) / 1e9                            # 6 N
    8.84736
    >>> round(training_flops_per_token(n, d_model=1600, n_vocab=50257) / 6 / n, 4)
    1.0545
    """
    n = _check("N", N)
    total = 6.0 * n
    if n_vocab is not None or (n_layer is not None or n_ctx is not None):
        if d_model is None:
            raise InputError("d_model is required with n_vocab or n_layer/n_ctx")
        d = _check("d_model", d_model, integer=True)
        if n_vocab is not None:
            total = total + 6.0 * _check("n_vocab", n_vocab, integer=True) * d
        if (n_layer is None) != (n_ctx is None):
            raise InputError("give both n_layer and n_ctx for the context term, or neither")
        if n_layer is not None:
            total = total + 6.0 * (_check("n_layer", n_layer, integer=True)
                                   * _check("n_ctx", n_ctx, integer=True) * d)
    return _out(total)


# --------------------------------------------------------------------------- Kaplan 2020
def kaplan_params(n_layer, d_model, d_attn=None, d_ff=None, n_vocab=None, n_ctx=None,
                  include_embeddings=False):
    """Non-embedding parameter count of Kaplan et al. 2020 (Sec 2.1, Eq 2.1, Table 1).

    ``N = 2 * d_model * n_layer * (2 * d_attn + d_ff)``, which is
    ``12 * n_layer * d_model**2`` with the defaults ``d_attn = d_model`` and
    ``d_ff = 4 * d_model``. Biases and layer norms are neglected. With
    ``include_embeddings=True`` the embedding matrices ``(n_vocab + n_ctx) * d_model``
    (token + learned position) are added; Kaplan's N excludes them.

    Parameters
    ----------
    n_layer, d_model : int or array_like
        Number of layers and residual width (positive whole numbers).
    d_attn, d_ff : int or array_like, optional
        Attention and feed-forward widths; default ``d_model`` and ``4 * d_model``.
    n_vocab, n_ctx : int or array_like, optional
        Vocabulary size and context length; both required with
        ``include_embeddings=True``.
    include_embeddings : bool, default False
        Add the embedding parameters.

    Returns
    -------
    float or ndarray
        Parameter count.

    Examples
    --------
    >>> round(kaplan_params(48, 1600) / 1e9, 3)   # GPT-2 1.5B shape
    1.475
    """
    include_embeddings = check_bool("include_embeddings", include_embeddings)
    n_layer = _check("n_layer", n_layer, integer=True)
    d_model = _check("d_model", d_model, integer=True)
    d_attn = d_model if d_attn is None else _check("d_attn", d_attn, integer=True)
    d_ff = 4.0 * d_model if d_ff is None else _check("d_ff", d_ff, integer=True)
    n = 2.0 * d_model * n_layer * (2.0 * d_attn + d_ff)
    if include_embeddings:
        if n_vocab is None or n_ctx is None:
            missing = "n_vocab" if n_vocab is None else "n_ctx"
            raise InputError(f"{missing} is required when include_embeddings=True")
        n = n + (_check("n_vocab", n_vocab, integer=True)
                 + _check("n_ctx", n_ctx, integer=True)) * d_model
    return _out(n)


def kaplan_forward_flops_per_token(N=None, n_layer=None, n_ctx=None, d_attn=None, *,
                                   n_params=None):
    """Forward-pass FLOPs per token, Kaplan et al. 2020 Eq 2.2 (Table 1).

    ``C_forward = 2 N + 2 * n_layer * n_ctx * d_attn`` -- 2 FLOPs per non-embedding
    parameter plus the attention-logit/value context term (Table 1 writes
    ``d_attn``; Eq 2.2 ``d_model``, equal in their models).

    Parameters
    ----------
    N : float or array_like
        Non-embedding parameters (``n_params`` is its deprecated name).
    n_layer, n_ctx, d_attn : int or array_like
        Layers, context length, attention width.

    Returns
    -------
    float or ndarray
        FLOPs per token for one forward pass.
    """
    N = renamed_argument("n_params", "N", n_params, N, None)
    for name, value in (("N", N), ("n_layer", n_layer), ("n_ctx", n_ctx), ("d_attn", d_attn)):
        if value is None:
            raise InputError(f"{name} is required")
    n = _check("N", N)
    ctx = (_check("n_layer", n_layer, integer=True) * _check("n_ctx", n_ctx, integer=True)
           * _check("d_attn", d_attn, integer=True))
    return _out(2.0 * n + 2.0 * ctx)


def kaplan_training_flops_per_token(N=None, n_layer=None, n_ctx=None, d_attn=None, *,
                                    n_params=None):
    """Training FLOPs per token, ``3 * C_forward`` ~ ``6 N`` (Kaplan et al. 2020 Sec 2.1).

    The backward pass costs twice the forward pass (Sec 2.1); Kaplan drop the
    context term because ``d_model >> n_ctx / 12`` for their models, giving
    ``C = 6 N B S``. Arguments as in :func:`kaplan_forward_flops_per_token`.

    Returns
    -------
    float or ndarray
        FLOPs per training token.
    """
    N = renamed_argument("n_params", "N", n_params, N, None)
    return _out(3.0 * np.asarray(kaplan_forward_flops_per_token(N, n_layer, n_ctx, d_attn)))


# --------------------------------------------------------------------------- Hoffmann 2022
def hoffmann_forward_flops(seq_len, vocab_size, d_model, n_layers, n_heads, kv_size, ffw_size,
                           include_embeddings=True):
    """Forward-pass FLOPs per sequence, Hoffmann et al. 2022 App F.

    With ``a = kv_size * n_heads`` and ``s = seq_len``::

        embeddings      2 s V d_model
        per layer:
          QKV           2 * 3 s d_model a
          KQ logits     2 s^2 a
          softmax       3 n_heads s^2
          softmax @ V   2 s^2 a
          out proj      2 s a d_model
          dense block   2 s (d_model ffw + d_model ffw)
        final logits    2 s d_model V

        forward = embeddings + n_layers * (attention + dense) + final logits

    Parameters
    ----------
    seq_len, vocab_size, d_model, n_layers, n_heads, kv_size, ffw_size : int or array_like
        Model and sequence shape (positive whole numbers).
    include_embeddings : bool, default True
        Count the embedding **and** final-logit terms (the literal App F formula).
        Note: Table A4's ratios to 6ND are reproduced within +-0.01 (seq_len 2048,
        N from Table A9) only with ``False``; the literal formula with V = 32,000
        gives 1.03-1.58 instead of the printed 0.99-1.10. The paper does not say
        which convention Table A4 used.

    Returns
    -------
    float or ndarray
        FLOPs for one forward pass over one sequence of ``seq_len`` tokens.
    """
    include_embeddings = check_bool("include_embeddings", include_embeddings)
    s = _check("seq_len", seq_len, integer=True)
    v = _check("vocab_size", vocab_size, integer=True)
    d = _check("d_model", d_model, integer=True)
    layers = _check("n_layers", n_layers, integer=True)
    h = _check("n_heads", n_heads, integer=True)
    a = _check("kv_size", kv_size, integer=True) * h
    f = _check("ffw_size", ffw_size, integer=True)
    attention = (2 * 3 * s * d * a + 2 * s * s * a + 3 * h * s * s + 2 * s * s * a
                 + 2 * s * a * d)
    dense = 2 * s * (d * f + d * f)
    total = layers * (attention + dense)
    if include_embeddings:
        total = total + 2 * s * v * d + 2 * s * d * v
    return _out(total)


def hoffmann_training_flops(seq_len, vocab_size, d_model, n_layers, n_heads, kv_size, ffw_size,
                            include_embeddings=True):
    """Training FLOPs per sequence: 3 x :func:`hoffmann_forward_flops` (App F).

    The backward pass costs twice the forward pass (App F).

    Same arguments as :func:`hoffmann_forward_flops`; multiply by the number of
    sequences for a run. Returns a float (or array) of FLOPs per sequence.
    """
    fwd = hoffmann_forward_flops(seq_len, vocab_size, d_model, n_layers, n_heads, kv_size,
                                 ffw_size, include_embeddings=include_embeddings)
    return _out(3.0 * np.asarray(fwd))


def hoffmann_params(d_model, ffw_size, kv_size, n_heads, n_layers, vocab_size=32000):
    """Total parameter count reproducing Hoffmann et al. 2022 Table A9 (embeddings included).

    ``N = n_layers * (5 * d_model * n_heads * kv_size + 2 * d_model * ffw_size)
    + vocab_size * d_model``.

    This is an empirical (derived) count, not a formula printed in the paper: it
    matches all 50 rows of Table A9 within -0.8 % ... +0.44 % and gives 70.06B for
    Chinchilla and 279.7B for Gopher (Table 4 shapes). The textbook count with
    ``4 * d_model * n_heads * kv_size`` (Q, K, V, output) is 4.8-7.7 % low. The
    fifth ``d_model x (n_heads * kv_size)`` matrix is plausibly the position-key
    projection of the Transformer-XL relative position encoding that Gopher and
    Chinchilla use (our interpretation, unconfirmed). A single (tied) embedding
    matrix is counted; biases and norms are neglected.

    Parameters
    ----------
    d_model, ffw_size, kv_size, n_heads, n_layers : int or array_like
        Table A9 columns (positive whole numbers).
    vocab_size : int or array_like, default 32000
        Vocabulary (Chinchilla's SentencePiece vocabulary, App I).

    Returns
    -------
    float or ndarray
        Parameter count.
    """
    d = _check("d_model", d_model, integer=True)
    f = _check("ffw_size", ffw_size, integer=True)
    a = _check("kv_size", kv_size, integer=True) * _check("n_heads", n_heads, integer=True)
    layers = _check("n_layers", n_layers, integer=True)
    v = _check("vocab_size", vocab_size, integer=True)
    return _out(layers * (5.0 * d * a + 2.0 * d * f) + v * d)


# --------------------------------------------------------------------------- inference
def inference_flops_per_token(N=None, n_layer=None, n_ctx=None, d_attn=None, *, n_params=None):
    """Forward (inference) FLOPs per generated token, ``2 N [+ 2 n_layer n_ctx d_attn]``.

    One multiply-accumulate per parameter (kipply, "Transformer Inference
    Arithmetic"; secondary) plus, when the shape is given, Kaplan et al. 2020
    Eq 2.2's attention context term. Used e.g. for the ``2 N D_inf`` term of
    Sardana et al. 2024 (arXiv 2401.00448).

    Parameters
    ----------
    N : float or array_like
        Parameters (``n_params`` is its deprecated name).
    n_layer, n_ctx, d_attn : int or array_like, optional
        Give all three to add the context term, or none.

    Returns
    -------
    float or ndarray
        FLOPs per token.
    """
    N = renamed_argument("n_params", "N", n_params, N, None)
    shape = {"n_layer": n_layer, "n_ctx": n_ctx, "d_attn": d_attn}
    given = [k for k, v in shape.items() if v is not None]
    if not given:
        return _out(2.0 * _check("N", N))
    if len(given) != 3:
        missing = ", ".join(k for k in shape if k not in given)
        raise InputError(f"give all of n_layer, n_ctx, d_attn or none; missing {missing}")
    return kaplan_forward_flops_per_token(N, n_layer, n_ctx, d_attn)
