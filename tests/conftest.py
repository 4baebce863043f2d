import os

# No test may reach a network: the hub is offline and tracing is off unless a test starts a recorder.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2"):
    os.environ.pop(name, None)

from tests.fixtures.tiny_models import tiny_catalog, tiny_models, tiny_models_dir  # noqa: E402, F401  (fixtures)
from tests.integration.openai_server import openai_server  # noqa: E402, F401  (fixture)
from tests.integration.servers import controller, server  # noqa: E402, F401  (fixtures)
