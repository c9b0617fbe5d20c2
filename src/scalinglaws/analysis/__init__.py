"""Stage 5, analysis: what users ask of a fitted law (predictions, compute-optimal
and inference-aware allocation, diagnosis)."""
