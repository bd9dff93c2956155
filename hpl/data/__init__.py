"""Dataset readers, the synthetic persons generator, sampling and transforms."""
