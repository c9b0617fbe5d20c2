"""Stage 1, data: reading and validating what users have (tables of runs) and public
datasets by path or checked download."""
