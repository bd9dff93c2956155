"""Two-stage HPL training: CLI, configs, stages on one shared trainer, evaluation and ablations."""
