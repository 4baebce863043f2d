"""Tables from .csv files, and the table-question-answering runner (TAPAS, or seq2seq such as TAPEX)."""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass

from tools.artifacts import InputError
from tools.models import ModelCard
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput
from tools.runners.hf_common import (
    Loaded,
    decode,
    from_pretrained,
    generation_kwargs,
    max_input_tokens,
    pipeline_of,
    to_model,
)
from tools.runners.text import load_seq2seq


@dataclass(frozen=True)
class Table:
    """A table read from a file: its header, and rows of cell strings as wide as the header."""

    header: list[str]
    rows: list[list[str]]


def _delimiter(text: str) -> str:
    try:  # some .csv files use semicolons (European decimals) or pipes
        return csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(call: Call) -> Table:
    """Read the call's ``table`` argument, a .csv (or .tsv) file with a header row.

    Args:
        call: args ``table``, the file's path.

    Returns:
        The table; short rows are padded with empty cells.

    Raises:
        InputError: when the file is missing, unreadable, empty, or has rows wider than its header.
    """
    value = str(call.args.get("table", "")).strip()
    if not value:
        raise InputError("the `table` argument is empty: give a .csv file")
    path = call.workspace.resolve(value)
    try:
        text = path.read_text(encoding="utf-8-sig")
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(text)
        lines = [row for row in csv.reader(text.splitlines(), delimiter=delimiter) if "".join(row).strip()]
    except (UnicodeDecodeError, csv.Error, OSError) as error:
        raise InputError(f"not a readable CSV table: {value} ({error})") from error
    if len(lines) < 2:
        raise InputError(f"the table {value} needs a header row and at least one data row")
    header = [cell.strip() for cell in lines[0]]
    wide = next((number for number, row in enumerate(lines[1:], start=2) if len(row) > len(header)), 0)
    if wide:
        raise InputError(
            f"row {wide} of {value} has {len(lines[wide - 1])} cells; its header has {len(header)}"
        )
    rows = [[cell.strip() for cell in row] + [""] * (len(header) - len(row)) for row in lines[1:]]
    return Table(header, rows)


# ---------------------------------------------------------------- table-question-answering


def load_table_question_answering(card: ModelCard, options: LoadOptions) -> Loaded:
    """Load a table QA model: TAPAS as the transformers pipeline (needs pandas), else a seq2seq model.

    Option ``tokenizer_class`` names the seq2seq tokenizer's class (``BartTokenizer`` for TAPEX).

    Args:
        card: the model card.
        options: device and dtype.

    Returns:
        The TAPAS pipeline (no tokenizer), or a seq2seq model (TAPEX, T5) with its tokenizer.

    Raises:
        RuntimeError: for a TAPAS model when pandas is not installed.
    """
    import transformers

    if transformers.AutoConfig.from_pretrained(card.location).model_type != "tapas":
        if "tokenizer_class" not in card.options:
            return load_seq2seq(card, options)
        # TAPEX folders name TapexTokenizer, gone from transformers 5: their vocab loads as BartTokenizer.
        tokenizer = getattr(transformers, str(card.options["tokenizer_class"])).from_pretrained(card.location)
        model = from_pretrained(transformers.AutoModelForSeq2SeqLM, card, options)
        return Loaded(model, tokenizer, tokenizer, options.device)
    if importlib.util.find_spec("pandas") is None:
        raise RuntimeError(f"{card.id} is a TAPAS model, whose tokenizer needs pandas: pip install pandas")
    return pipeline_of("table-question-answering", card, options)


def linearize(table: Table) -> str:
    """Flatten a table the way TAPEX reads it: ``col : a | b row 1 : x | y row 2 : ...``."""
    parts = ["col : " + " | ".join(table.header)]
    parts += [f"row {number} : " + " | ".join(row) for number, row in enumerate(table.rows, start=1)]
    return " ".join(parts)


def run_table_question_answering(loaded: Loaded, call: Call) -> TaskOutput:
    """Answer a question from a table.

    TAPAS selects cells (and an aggregation such as SUM or COUNT); a seq2seq model reads the question and
    the linearized table and writes the answer. Seq2seq options: ``lowercase`` (default True, as TAPEX
    was trained), ``prefix``, ``max_new_tokens`` (default 64).

    Args:
        loaded: the TAPAS pipeline, or a seq2seq model and tokenizer.
        call: args ``text`` (the question) and ``table`` (a .csv file).

    Returns:
        The answer in ``text``; ``data`` the answer, and for TAPAS its cells, coordinates and aggregator.

    Raises:
        InputError: for an empty question or an unreadable table.
    """
    question = str(call.args.get("text", "")).strip()
    if not question:
        raise InputError("the `text` argument is empty: give the question to answer from the table")
    table = read_table(call)
    if loaded.tokenizer is None:
        return _tapas_answer(loaded, question, table)
    return _seq2seq_answer(loaded, call, question, table)


def _tapas_answer(loaded: Loaded, question: str, table: Table) -> TaskOutput:
    import torch

    columns = {name: [row[index] for row in table.rows] for index, name in enumerate(table.header)}
    with torch.inference_mode():
        found = loaded.model(table=columns, query=question)
    answer = str(found["answer"])
    data = {
        "answer": answer,
        "cells": [str(cell) for cell in found.get("cells", [])],
        "coordinates": [list(pair) for pair in found.get("coordinates", [])],
        "aggregator": str(found.get("aggregator", "NONE")),
    }
    return TaskOutput(text=answer, data=data)


def _seq2seq_answer(loaded: Loaded, call: Call, question: str, table: Table) -> TaskOutput:
    import torch

    source = f"{call.options.get('prefix', '')}{question} {linearize(table)}"
    if bool(call.options.get("lowercase", True)):
        source = source.lower()
    limit = max_input_tokens(loaded.tokenizer, loaded.model, call)
    batch = loaded.tokenizer(source, truncation=True, max_length=limit, return_tensors="pt")
    with torch.inference_mode():
        ids = loaded.model.generate(**to_model(batch, loaded.model), **generation_kwargs(call, 64))
    answer = decode(loaded.tokenizer, ids[0])
    return TaskOutput(
        text=answer, data={"answer": answer, "truncated": int(batch["input_ids"].shape[1]) >= limit}
    )


RUNNERS: tuple[Runner, ...] = (
    Runner.per_call(
        "transformers/table-question-answering",
        load_table_question_answering,
        run_table_question_answering,
        load_keys=("tokenizer_class",),
    ),
)
