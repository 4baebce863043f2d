"""The HuggingGPT LangGraph state machine: plan -> select -> execute (fan-out) -> respond."""
