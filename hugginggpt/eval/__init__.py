"""Evaluation harnesses: `hugginggpt eval plan` scores the planner on TaskBench's Hugging Face domain."""
