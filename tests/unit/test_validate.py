import pytest

from graph.validate import PlanValidationError, validate_plan
from tools.registry import TASKS


def t(id, task, args, dep=(-1,)):
    return {"id": id, "task": task, "dep": list(dep), "args": args}


def errors_of(plan):
    with pytest.raises(PlanValidationError) as caught:
        validate_plan(plan, TASKS)
    return " | ".join(caught.value.errors)


def test_valid_plan_is_normalised():
    tasks = validate_plan(
        [
            t(0, "image-classification", {"image": "a.png"}),
            t(1, "text-to-speech", {"text": "<GENERATED>-0"}, [0]),
        ],
        TASKS,
    )
    assert [task["dep"] for task in tasks] == [[], [0]]


def test_empty_plan():
    assert "empty" in errors_of([])


def test_unknown_task_type_lists_known_ones():
    message = errors_of([t(0, "mind-reading", {"text": "x"})])
    assert "unknown task type 'mind-reading'" in message and "summarization" in message


def test_literal_of_wrong_modality():
    assert "needs image" in errors_of([t(0, "image-classification", {"image": "a cat on a sofa"})])
    assert "needs text" in errors_of([t(0, "summarization", {"text": "speech.wav"})])


def test_reference_of_wrong_modality():
    plan = [
        t(0, "summarization", {"text": "hello"}),
        t(1, "image-classification", {"image": "<GENERATED>-0"}, [0]),
    ]
    assert "task 0 (summarization) produces text" in errors_of(plan)


def test_reference_to_missing_task():
    assert "missing or later" in errors_of([t(0, "text-to-speech", {"text": "<GENERATED>-7"}, [7])])


def test_reference_to_later_task():
    plan = [t(0, "text-to-speech", {"text": "<GENERATED>-1"}, [1]), t(1, "summarization", {"text": "x"})]
    assert "missing or later" in errors_of(plan)


def test_self_reference():
    assert "its own output" in errors_of([t(0, "summarization", {"text": "<GENERATED>-0"}, [0])])


def test_cycle_through_dep():
    plan = [t(0, "summarization", {"text": "a"}, [1]), t(1, "summarization", {"text": "b"}, [0])]
    assert "cycle" in errors_of(plan)


def test_duplicate_id():
    assert "used twice" in errors_of(
        [t(0, "summarization", {"text": "a"}), t(0, "summarization", {"text": "b"})]
    )


def test_dep_inconsistent_with_references():
    plan = [t(0, "summarization", {"text": "a"}), t(1, "text-to-speech", {"text": "<GENERATED>-0"})]
    assert "does not match" in errors_of(plan)
    plan = [t(0, "summarization", {"text": "a"}), t(1, "text-to-speech", {"text": "hi"}, [0])]
    assert "does not match" in errors_of(plan)


def test_missing_and_unknown_arguments():
    assert "missing argument 'context'" in errors_of([t(0, "question-answering", {"text": "why?"})])
    assert "unknown argument 'colour'" in errors_of([t(0, "text-to-image", {"text": "x", "colour": "red"})])


def test_optional_argument_may_be_left_out():
    assert validate_plan([t(0, "translation", {"text": "hello"})], TASKS)[0]["task"] == "translation"


def test_file_argument_must_be_a_whole_reference():
    plan = [
        t(0, "text-to-image", {"text": "a"}),
        t(1, "image-classification", {"image": "x <GENERATED>-0"}, [0]),
    ]
    assert "exactly one <GENERATED>-N" in errors_of(plan)


def test_text_may_embed_references():
    plan = [
        t(0, "summarization", {"text": "a"}),
        t(1, "text-to-speech", {"text": "Summary: <GENERATED>-0"}, [0]),
    ]
    assert validate_plan(plan, TASKS)[1]["dep"] == [0]


def test_malformed_task_and_all_errors_reported():
    message = errors_of([{"id": "zero", "task": "summarization"}])
    assert "malformed" in message
    message = errors_of([t(0, "nope", {}), t(1, "summarization", {"text": "<GENERATED>-5"}, [5])])
    assert "unknown task type" in message and "missing or later" in message


def test_numbers_in_args_are_coerced():
    tasks = validate_plan([{"id": 0, "task": "summarization", "dep": -1, "args": {"text": 42}}], TASKS)
    assert tasks[0]["args"] == {"text": "42"}
