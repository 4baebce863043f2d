"""The tabular-classification runner: scikit-learn pipelines saved as the Hub's are (joblib, skops)."""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.tables import Table, read_table

logger = logging.getLogger(__name__)

MODEL_FILES = ("model.skops", "model.joblib", "sklearn_model.joblib", "model.pkl", "sklearn_model.pkl")
SHOWN_ROWS = 10


@dataclass(frozen=True)
class TabularModel:
    """A scikit-learn estimator with the columns it reads.

    Attributes:
        estimator: a fitted classifier or pipeline (``predict``, maybe ``predict_proba``).
        columns: the input columns in order, or empty to take the table's own.
    """

    estimator: Any
    columns: tuple[str, ...] = ()


def _model_folder(card: ModelCard) -> Path:
    if Path(card.location).is_dir():
        return Path(card.location)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(card.location))  # from the HF cache when offline


def _model_file(folder: Path, config: dict[str, Any]) -> Path:
    named = config.get("model", {}).get("file")
    candidates = [folder / named] if named else [folder / name for name in MODEL_FILES]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no scikit-learn model file in {folder}: looked for {[c.name for c in candidates]}"
    )


def _load_estimator(path: Path) -> Any:
    if path.suffix == ".skops":
        from skops import io as skops_io  # an ImportError names the package to install

        trusted = skops_io.get_untrusted_types(file=path)  # the catalog's operator chose this file
        logger.info("loading %s, trusting types %s", path.name, trusted)
        return skops_io.load(path, trusted=trusted)
    import joblib

    return joblib.load(path)  # a pickle: only files the catalog names are loaded


def load_tabular_classification(card: ModelCard, options: LoadOptions) -> TabularModel:
    """Load a scikit-learn classifier saved as the Hub's tabular-classification models are.

    The folder's ``config.json`` (``sklearn.model.file``, ``sklearn.columns``) names the file and columns;
    without it the first of ``model.skops``, ``model.joblib``, ``sklearn_model.joblib``, ``model.pkl`` is
    loaded, and the columns are the estimator's ``feature_names_in_`` when it has them.

    Args:
        card: the model card (a folder, or a hub id already in the HF cache).
        options: ignored: scikit-learn runs on the CPU.

    Returns:
        The estimator and its columns.
    """
    folder = _model_folder(card)
    config_file = folder / "config.json"
    config = (
        json.loads(config_file.read_text(encoding="utf-8")).get("sklearn", {})
        if config_file.is_file()
        else {}
    )
    estimator = _load_estimator(_model_file(folder, config))
    columns = config.get("columns") or list(getattr(estimator, "feature_names_in_", []))
    return TabularModel(estimator, tuple(str(column) for column in columns))


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _features(model: TabularModel, table: Table, value: str) -> Any:
    """Return the model's input: a DataFrame of the named columns (with pandas), else a float array."""
    import numpy as np

    columns = list(model.columns) or table.header
    missing = [column for column in columns if column not in table.header]
    if missing:
        raise InputError(f"the table {value} lacks the column(s) the model needs: {', '.join(missing)}")
    picked = {column: [row[table.header.index(column)] for row in table.rows] for column in columns}
    numeric = {column: [_number(cell) for cell in cells] for column, cells in picked.items()}
    typed = {column: numeric[column] if None not in numeric[column] else picked[column] for column in columns}
    if importlib.util.find_spec("pandas") is not None:
        import pandas as pd

        return pd.DataFrame(typed, columns=columns)
    text_columns = [column for column in columns if None in numeric[column]]
    if text_columns:
        raise InputError(
            f"column(s) {', '.join(text_columns)} of {value} are not numbers (text needs pandas)"
        )
    return np.array([typed[column] for column in columns], dtype=np.float64).T


def _summary(predictions: list[dict[str, Any]]) -> str:
    shown = ", ".join(
        f"{p['row']}: {p['label']}" + (f" ({p['score']:.2f})" if p["score"] is not None else "")
        for p in predictions[:SHOWN_ROWS]
    )
    more = f", and {len(predictions) - SHOWN_ROWS} more" if len(predictions) > SHOWN_ROWS else ""
    return f"{len(predictions)} {'row' if len(predictions) == 1 else 'rows'}: {shown}{more}"


def run_tabular_classification(model: TabularModel, call: Call) -> TaskOutput:
    """Predict a class for each row of a table.

    Args:
        model: the estimator and its columns.
        call: args ``table`` (a .csv file with a header row).

    Returns:
        ``data["predictions"]``: ``{row, label, score}`` per data row (score: the class probability, or
        None without ``predict_proba``); ``text`` a summary such as ``3 rows: 1: setosa (0.97), ...``.

    Raises:
        InputError: for an unreadable table, missing columns, or text where numbers are needed.
    """
    table = read_table(call)
    features = _features(model, table, call.args["table"])
    try:
        labels = list(model.estimator.predict(features))
        probabilities = (
            model.estimator.predict_proba(features) if hasattr(model.estimator, "predict_proba") else None
        )
    except ValueError as error:  # scikit-learn's message for values it cannot take
        raise InputError(f"the model cannot read {call.args['table']}: {error}") from error
    predictions = [
        {
            "row": number,
            "label": label.item() if hasattr(label, "item") else label,  # numpy scalars -> JSON values
            "score": float(max(probabilities[number - 1])) if probabilities is not None else None,
        }
        for number, label in enumerate(labels, start=1)
    ]
    return TaskOutput(text=_summary(predictions), data={"predictions": predictions})


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call(
        "sklearn/tabular-classification", load_tabular_classification, run_tabular_classification
    ),
)
