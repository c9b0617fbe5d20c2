"""Stage 6, outputs: JSON, figures, the HTML report, reproductions and the CLI."""
