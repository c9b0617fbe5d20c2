"""Stage 2, laws: the forms (value and Jacobian over a batch of parameter vectors),
losses, FLOP and parameter accounting, published constants, and synthetic data drawn
from a law."""
