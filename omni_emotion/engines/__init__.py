"""Engines turn a Perception into an Analysis: "clues" (CPU, offline default) and "omni" (the MLLM)."""
