# Common tasks. `make demo` sets up and runs the README request; `make test` sets up and runs the tests.
REQUEST ?= Transcribe examples/speech.wav and read the transcript aloud. What animal is in examples/cat.png?

.PHONY: setup demo test test-fast lint format bench bench-batching bench-load studio serve

setup:
	bash scripts/setup.sh

demo: setup
	HF_HUB_OFFLINE=1 .venv/bin/hugginggpt run "$(REQUEST)"

test: setup
	.venv/bin/python -m pytest -q

test-fast:
	.venv/bin/python -m pytest -q -m "not slow and not embedded"

lint:
	.venv/bin/ruff check graph tools hugginggpt tests bench
	.venv/bin/ruff format --check graph tools hugginggpt tests bench
	.venv/bin/mypy

format:
	.venv/bin/ruff format graph tools hugginggpt tests bench
	.venv/bin/ruff check --fix graph tools hugginggpt tests bench

bench:
	.venv/bin/python -m bench.bench_graph

bench-batching:
	.venv/bin/python -m bench.bench_batching

bench-load:
	.venv/bin/python -m bench.bench_load

serve: setup
	HF_HUB_OFFLINE=1 .venv/bin/hugginggpt serve

STUDIO_PORT ?= 2024

studio:
	LANGGRAPH_CLI_NO_ANALYTICS=1 LANGGRAPH_NO_VERSION_CHECK=1 .venv/bin/langgraph dev --no-browser --port $(STUDIO_PORT)
