"""Invented text arguments are linked to the earlier output the request names."""

from __future__ import annotations

from graph.grammar import with_dependencies
from graph.referents import link_referents
from tools.registry import TASKS

REQUEST = "Transcribe examples/speech.wav and read the transcript aloud. What animal is in examples/cat.png?"


def _plan(tts_text: str) -> list[dict]:
    return [
        {"id": 0, "task": "automatic-speech-recognition", "args": {"audio": "examples/speech.wav"}},
        {"id": 1, "task": "image-classification", "args": {"image": "examples/cat.png"}},
        {"id": 2, "task": "text-to-speech", "args": {"text": tts_text}},
    ]


def test_an_invented_sentence_becomes_the_named_output() -> None:
    linked = with_dependencies(link_referents(REQUEST, _plan("The animal is a cat"), TASKS))
    assert linked[2]["args"] == {"text": "<GENERATED>-0"} and linked[2]["dep"] == [0]
    assert linked[:2] == with_dependencies(_plan("x"))[:2]  # the other tasks are untouched


def test_the_request_s_own_words_and_references_stay() -> None:
    request = "Transcribe a.wav, and read 'good morning' aloud after the transcript."
    plan = [
        {"id": 0, "task": "automatic-speech-recognition", "args": {"audio": "a.wav"}},
        {"id": 1, "task": "text-to-speech", "args": {"text": "good morning"}},
        {"id": 2, "task": "text-to-speech", "args": {"text": "<GENERATED>-0"}},
    ]
    assert link_referents(request, plan, TASKS) == plan


def test_no_named_output_or_several_producers_change_nothing() -> None:
    plan = _plan("The animal is a cat")
    assert link_referents("Transcribe examples/speech.wav; what is in examples/cat.png?", plan, TASKS) == plan
    two = [plan[0], {**plan[0], "id": 1}, {**plan[2], "id": 2}]
    assert link_referents(REQUEST, two, TASKS) == two  # which transcript? leave it to validation
