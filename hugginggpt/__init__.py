"""The HuggingGPT application: command line, chat REPL and example inputs."""
