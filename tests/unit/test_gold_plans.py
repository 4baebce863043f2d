"""TaskBench gold nodes -> our plans: names, arguments by modality and order, references, and refusals."""

from __future__ import annotations

from typing import Any

from hugginggpt.eval.gold_plans import BAD_ARGUMENT, NO_SUCH_TASK, counting_start, map_gold_plan


def node(task: str, *arguments: Any) -> dict[str, Any]:
    return {"task": task, "arguments": list(arguments)}


def test_visual_question_answering_takes_the_image_and_the_question() -> None:
    mapped = map_gold_plan([node("Visual Question Answering", "example.jpg", "What is on the table?")])
    assert mapped.mapped and not mapped.notes
    assert mapped.plan == [
        {
            "id": 0,
            "task": "visual-question-answering",
            "dep": [-1],
            "args": {"image": "example.jpg", "text": "What is on the table?"},
        }
    ]


def test_image_editing_places_arguments_by_modality_whatever_their_order() -> None:
    mapped = map_gold_plan([node("Image Editing", "make it snow", "photos/street.png")])
    assert mapped.plan[0]["args"] == {"image": "photos/street.png", "text": "make it snow"}


def test_a_chain_turns_node_references_into_generated_outputs_and_deps() -> None:
    mapped = map_gold_plan(
        [
            node("Image-to-Text", "example.jpg"),
            node("Text-to-Speech", "<node-0>"),
            node("Audio Classification", "<node-1>"),
        ]
    )
    assert mapped.mapped
    assert [(task["task"], task["dep"], task["args"]) for task in mapped.plan] == [
        ("image-to-text", [-1], {"image": "example.jpg"}),
        ("text-to-speech", [0], {"text": "<GENERATED>-0"}),
        ("audio-classification", [1], {"audio": "<GENERATED>-1"}),
    ]


def test_question_answering_reads_taskbench_order_passage_then_question() -> None:
    mapped = map_gold_plan(
        [
            node("Image Classification", "example.jpg"),
            node("Question Answering", "<node-0>", "What is it for?"),
        ]
    )
    assert mapped.plan[1]["args"] == {"context": "<GENERATED>-0", "text": "What is it for?"}


def test_a_reference_to_a_task_with_image_and_text_outputs_fills_the_argument_it_fits() -> None:
    mapped = map_gold_plan(
        [
            node("Object Detection", "example.jpg"),
            node("Summarization", "<node-0>"),
            node("Document Question Answering", "<node-0>", "What is top left?"),
        ]
    )
    assert mapped.mapped
    assert mapped.plan[1]["args"] == {"text": "<GENERATED>-0"}
    assert mapped.plan[2]["args"] == {"image": "<GENERATED>-0", "text": "What is top left?"}


def test_a_tool_we_lack_is_reported_and_the_plan_is_not_shortened() -> None:
    mapped = map_gold_plan(
        [node("Image Classification", "example.jpg"), node("Information Retrieval", "<node-0>")]
    )
    assert not mapped.mapped and mapped.plan == []
    assert [(p.node, p.tool, p.kind) for p in mapped.problems] == [(1, "Information Retrieval", NO_SUCH_TASK)]
    assert "no such task type here: 'Information Retrieval'" in mapped.problems[0].detail


def test_an_argument_with_no_place_is_reported_not_dropped() -> None:
    mapped = map_gold_plan([node("Image-to-Image", "example.jpg", "target_example.png")])
    assert not mapped.mapped
    (problem,) = mapped.problems
    assert problem.kind == BAD_ARGUMENT and problem.node == 0
    assert "argument 2 'target_example.png' (image) has no place" in problem.detail
    assert "image (image), text (text)" in problem.detail


def test_a_table_given_as_an_image_leaves_the_table_argument_missing() -> None:
    mapped = map_gold_plan([node("Tabular Classification", "example.jpg")])
    details = [problem.detail for problem in mapped.problems]
    assert any("'example.jpg' (image) has no place" in detail for detail in details)
    assert any("required argument 'table'" in detail for detail in details)


def test_a_reference_to_no_such_node_is_a_bad_argument() -> None:
    mapped = map_gold_plan([node("Summarization", "<node-4>")])
    assert [problem.kind for problem in mapped.problems][0] == BAD_ARGUMENT
    assert "<node-4> refers to a node the plan does not have" in mapped.problems[0].detail


def test_references_that_count_from_one_are_read_so_and_noted() -> None:
    nodes = [
        node("Document Question Answering", "doc.jpg", "Who wrote it?"),
        node("Conversational", "<node-1>"),
    ]
    assert counting_start(nodes) == 1
    mapped = map_gold_plan(nodes)
    assert mapped.mapped
    assert mapped.plan[1]["args"] == {"text": "<GENERATED>-0"} and mapped.plan[1]["dep"] == [0]
    assert any("counting from 1" in note for note in mapped.notes)


def test_a_self_reference_that_no_numbering_explains_is_reported() -> None:
    nodes = [
        node("Text-to-Image", "a cat"),
        node("Image Classification", "<node-1>"),
        node("Summarization", "<node-0>"),
    ]
    assert counting_start(nodes) == 0  # <node-0> cannot count from one
    mapped = map_gold_plan(nodes)
    assert any("refers to this node's own output" in problem.detail for problem in mapped.problems)


def test_references_by_tool_name_and_from_objects_resolve_to_that_node() -> None:
    mapped = map_gold_plan(
        [
            node("Image Segmentation", "example.jpg"),
            node("Depth Estimation", "<output_of_Image_Segmentation>"),
            node("Translation", "Welche Farbe?"),
            node("Visual Question Answering", "example.png", {"from": "Translation"}),
        ]
    )
    assert mapped.mapped
    assert mapped.plan[1]["args"] == {"image": "<GENERATED>-0"}
    assert mapped.plan[3]["args"] == {"image": "example.png", "text": "<GENERATED>-2"}
    assert mapped.plan[3]["dep"] == [2]


def test_a_reference_inside_text_keeps_the_text() -> None:
    mapped = map_gold_plan([node("Image-to-Text", "a.jpg"), node("Text Generation", "<node-0> and more")])
    assert mapped.plan[1]["args"] == {"text": "<GENERATED>-0 and more"} and mapped.plan[1]["dep"] == [0]


def test_nodes_listed_before_their_inputs_are_reordered_with_a_note() -> None:
    mapped = map_gold_plan([node("Depth Estimation", "<node-1>"), node("Image-to-Image", "example.jpg")])
    assert mapped.mapped
    assert [task["id"] for task in mapped.plan] == [1, 0]
    assert any("reordered" in note for note in mapped.notes)


def test_an_argument_that_is_no_value_is_reported() -> None:
    mapped = map_gold_plan([node("Summarization", ["a", "list"])])
    assert "neither text, a file nor a reference" in mapped.problems[0].detail


def test_a_reference_to_an_output_the_task_cannot_take_is_reported() -> None:
    # Text-to-Speech produces audio; Image Classification needs an image.
    mapped = map_gold_plan([node("Text-to-Speech", "hi"), node("Image Classification", "<node-0>")])
    assert not mapped.mapped
    assert "'<GENERATED>-0' (audio) has no place" in mapped.problems[0].detail


def test_a_cycle_is_refused_by_the_plan_validator() -> None:
    mapped = map_gold_plan([node("Depth Estimation", "<node-1>"), node("Image-to-Image", "<node-0>")])
    assert not mapped.mapped
    assert all(problem.kind == BAD_ARGUMENT and problem.node is None for problem in mapped.problems)
