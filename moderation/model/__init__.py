"""The model: the estimator object, scoring with reasons, and the registry (read by workers, written by training)."""
