"""Stage 4, uncertainty: bootstrap with re-optimisation, asymptotic covariance,
back-tests."""
