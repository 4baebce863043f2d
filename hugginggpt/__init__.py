"""The HuggingGPT application: the command line, the chat REPL, the HTTP server, example inputs."""
