"""Hugging Face task types as tools: the task registry, the model catalog, runners and backends."""
