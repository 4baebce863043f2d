"""Backends that run a task on a model: in-process (local) today; the Inference API fits the same call."""
