"""The M-LSD and HED annotators: their networks' state dicts are the reference's, and the runners work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fixtures.tiny_annotators import OPTIONS, SPECS, hed_weights
from tests.fixtures.tiny_models import build_models
from tools.artifacts import InputError, Workspace
from tools.models import ModelCard
from tools.registry import TASKS
from tools.runners import hed, mlsd
from tools.runners.annotators import NoOfflineModelError
from tools.runners.base import Call, LoadOptions, TaskOutput
from tools.runners.mlsd_network import build_mlsd_network

Shapes = dict[str, tuple[int, ...]]

# ---- the reference's state dicts, derived from huggingface/controlnet_aux (src/controlnet_aux/mlsd/models/
# mbv2_mlsd_large.py: MobileV2_MLSD_Large; src/controlnet_aux/hed/__init__.py: ControlNetHED_Apache2). The key
# and element counts were checked by instantiating those two reference classes.
MLSD_TRUNK_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))  # t, c, n, s
MLSD_MERGES = {15: (64, 96), 17: (32, 64), 19: (24, 64), 21: (16, 64)}  # BlockTypeA in_c1, in_c2 (out 64, 64)
MLSD_KEYS, MLSD_ELEMENTS = 362, 1_552_681
HED_BLOCKS = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))  # DoubleConvBlock args
HED_KEYS, HED_ELEMENTS = 37, 14_716_168


def _conv(prefix: str, outputs: int, inputs: int, kernel: int, bias: bool = True) -> Shapes:
    shapes: Shapes = {f"{prefix}.weight": (outputs, inputs, kernel, kernel)}
    return {**shapes, f"{prefix}.bias": (outputs,)} if bias else shapes


def _bn(prefix: str, channels: int) -> Shapes:
    names = ("weight", "bias", "running_mean", "running_var")
    return {**{f"{prefix}.{name}": (channels,) for name in names}, f"{prefix}.num_batches_tracked": ()}


def _conv_bn(prefix: str, outputs: int, inputs: int, kernel: int, bias: bool = True) -> Shapes:
    return {**_conv(f"{prefix}.0", outputs, inputs, kernel, bias), **_bn(f"{prefix}.1", outputs)}


def _inverted_residual(prefix: str, inputs: int, outputs: int, expansion: int) -> Shapes:
    hidden, shapes, index = inputs * expansion, {}, 0
    if expansion != 1:  # pw ConvBNReLU
        shapes, index = _conv_bn(f"{prefix}.conv.0", hidden, inputs, 1, bias=False), 1
    shapes |= _conv_bn(f"{prefix}.conv.{index}", hidden, 1, 3, bias=False)  # dw (groups=hidden)
    shapes |= _conv(f"{prefix}.conv.{index + 1}", outputs, hidden, 1, bias=False)  # pw-linear
    return shapes | _bn(f"{prefix}.conv.{index + 2}", outputs)


def reference_mlsd_shapes() -> Shapes:
    shapes = _conv_bn("backbone.features.0", 32, 4, 3, bias=False)
    feature, channels = 1, 32
    for expansion, outputs, repeats, _ in MLSD_TRUNK_SETTING:
        for _ in range(repeats):
            shapes |= _inverted_residual(f"backbone.features.{feature}", channels, outputs, expansion)
            feature, channels = feature + 1, outputs
    for block, (skip, incoming) in MLSD_MERGES.items():
        shapes |= _conv_bn(f"block{block}.conv1", 64, incoming, 1) | _conv_bn(
            f"block{block}.conv2", 64, skip, 1
        )
        shapes |= _conv_bn(f"block{block + 1}.conv1", 128, 128, 3) | _conv_bn(
            f"block{block + 1}.conv2", 64, 128, 3
        )
    shapes |= _conv_bn("block23.conv1", 64, 64, 3) | _conv_bn("block23.conv2", 64, 64, 3)
    return shapes | _conv("block23.conv3", 16, 64, 1)


def reference_hed_shapes() -> Shapes:
    shapes: Shapes = {"norm": (1, 3, 1, 1)}
    for block, (inputs, outputs, convolutions) in enumerate(HED_BLOCKS, start=1):
        for index in range(convolutions):
            shapes |= _conv(f"block{block}.convs.{index}", outputs, inputs if index == 0 else outputs, 3)
        shapes |= _conv(f"block{block}.projection", 1, outputs, 1)
    return shapes


def _shapes(network: Any) -> Shapes:
    return {key: tuple(value.shape) for key, value in network.state_dict().items()}


@pytest.mark.parametrize(
    ("build", "reference", "keys", "elements"),
    [
        (build_mlsd_network, reference_mlsd_shapes, MLSD_KEYS, MLSD_ELEMENTS),
        (hed.build_hed_network, reference_hed_shapes, HED_KEYS, HED_ELEMENTS),
    ],
    ids=["mlsd", "hed"],
)
def test_state_dict_is_the_reference_one(build: Any, reference: Any, keys: int, elements: int) -> None:
    expected = reference()
    assert len(expected) == keys and sum(int(np.prod(shape)) for shape in expected.values()) == elements
    assert _shapes(build()) == expected


def test_mlsd_network_output_is_half_size_with_nine_maps() -> None:
    import torch

    with torch.inference_mode():
        output = build_mlsd_network().eval()(torch.zeros(1, 4, 64, 96))
    assert tuple(output.shape) == (1, 9, 32, 48)


def test_decode_lines_keeps_long_confident_segments() -> None:
    import torch

    output = torch.full((1, 9, 8, 8), -10.0)
    output[0, 0, 2, 3] = 5.0  # a confident centre at row 2, column 3
    output[0, 1:5, 2, 3] = torch.tensor([-1.0, 0.0, 2.0, 1.0])  # its ends at (x-1, y) and (x+2, y+1)
    output[0, 0, 6, 6] = 5.0  # confident, but a zero-length segment
    lines = mlsd.decode_lines(output)
    np.testing.assert_allclose(lines, [[4.0, 4.0, 10.0, 6.0]])  # twice the map's pixels
    assert mlsd.decode_lines(output, score_threshold=0.999).shape == (0, 4)


# ---- the runners


@pytest.fixture(scope="module")
def mlsd_card(tmp_path_factory: pytest.TempPathFactory) -> ModelCard:
    (entry,) = build_models(tmp_path_factory.mktemp("annotators"), SPECS, OPTIONS)
    return ModelCard(**entry)


@pytest.fixture(scope="module")
def mlsd_model(mlsd_card: ModelCard) -> Any:
    return mlsd.RUNNERS[0].load(mlsd_card, LoadOptions())


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    image = Image.new("RGB", (64, 64), (30, 30, 30))
    image.paste((240, 240, 240), (8, 20, 56, 44))
    image.save(tmp_path / "square.png")
    image.resize((80, 48)).save(tmp_path / "wide.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    return Workspace(tmp_path / "ws", base=tmp_path)


def _call(workspace: Workspace, options: dict[str, Any], **args: str) -> Call:
    return Call(args=args, workspace=workspace, stem="t-annotator", options=dict(options))


def _pixels(output: TaskOutput, workspace: Workspace) -> np.ndarray:
    assert output.image is not None and Path(output.image).parent == workspace.root
    with Image.open(output.image) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        return np.asarray(image)


def test_mlsd_is_the_default_runner_of_its_task() -> None:
    assert [runner.name for runner in mlsd.RUNNERS] == [TASKS["mlsd-control"].default_runner]


@pytest.mark.parametrize(("name", "size"), [("square.png", (64, 64)), ("wide.png", (48, 80))])
def test_mlsd_draws_lines_the_input_size(
    mlsd_card: ModelCard, mlsd_model: Any, workspace: Workspace, name: str, size: tuple[int, int]
) -> None:
    output = mlsd.RUNNERS[0].run(mlsd_model, _call(workspace, mlsd_card.options, image=name))
    pixels = _pixels(output, workspace)
    assert pixels.shape == (*size, 3) and (pixels[..., 0] == pixels[..., 2]).all()  # grey
    assert output.data["count"] == len(output.data["lines"])
    assert all(
        len(line) == 4 and all(isinstance(value, float) for value in line) for line in output.data["lines"]
    )
    assert output.text is not None and "line segments" in output.text


def test_mlsd_lines_are_one_pixel_white_on_black(mlsd_model: Any, workspace: Workspace) -> None:
    options = {
        "detect_resolution": 64,
        "thr_v": 0.0,
        "thr_d": 0.0,
    }  # detected at the input's size, no resampling
    output = mlsd.RUNNERS[0].run(mlsd_model, _call(workspace, options, image="square.png"))
    pixels = _pixels(output, workspace)
    assert output.data["count"] > 0 and set(np.unique(pixels)) == {0, 255}


def test_mlsd_at_the_default_resolution(mlsd_model: Any, workspace: Workspace) -> None:
    options = {"thr_v": 0.0, "thr_d": 0.0}
    output = mlsd.RUNNERS[0].run(mlsd_model, _call(workspace, options, image="square.png"))
    assert _pixels(output, workspace).shape == (64, 64, 3)  # detected at 512, resized to the input's size
    assert output.data["count"] == 200  # no thresholds: each of the 200 best centres of 256x256 is a line


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        ({"image": "broken.png"}, {}, "not a readable image"),
        ({}, {}, "mlsd-control needs an image"),
        ({"image": "square.png"}, {"thr_v": "high"}, "thr_v must be a number"),
        ({"image": "square.png"}, {"detect_resolution": 16}, "detect_resolution must be at least 64"),
    ],
)
def test_mlsd_bad_input(
    mlsd_model: Any, workspace: Workspace, args: dict[str, str], options: Any, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        mlsd.RUNNERS[0].run(mlsd_model, _call(workspace, options, **args))


def test_mlsd_without_weights_says_how_to_get_them(tmp_path: Path) -> None:
    runner = mlsd.RUNNERS[0]
    folder_card = ModelCard(id="local/mlsd", task="mlsd-control", source="path", path=str(tmp_path))
    with pytest.raises(NoOfflineModelError, match="no model available offline for mlsd-control") as raised:
        runner.load(folder_card, LoadOptions())
    assert "mlsd_large_512_fp32.pth" in str(raised.value)
    assert "hugginggpt models pull lllyasviel/Annotators" in str(raised.value)
    hub_card = ModelCard(id="no-such-org/no-such-annotators", task="mlsd-control")
    with pytest.raises(NoOfflineModelError, match="hugginggpt models pull no-such-org/no-such-annotators"):
        runner.load(hub_card, LoadOptions())


def test_hed_runs_at_the_detection_resolution_and_answers_the_input_size(
    tmp_path: Path, workspace: Workspace
) -> None:
    hed_weights(tmp_path / "hed")
    card = ModelCard(id="tiny/hed", task="hed-control", source="path", path=str(tmp_path / "hed"))
    runner = hed.RUNNERS[0]
    output = runner.run(
        runner.load(card, LoadOptions()), _call(workspace, {"detect_resolution": 64}, image="wide.png")
    )
    assert _pixels(output, workspace).shape == (48, 80, 3)
    assert 0.0 < output.data["mean_edge"] < 1.0
    with pytest.raises(NoOfflineModelError, match="hugginggpt models pull lllyasviel/Annotators"):
        runner.load(
            ModelCard(id="local/hed", task="hed-control", source="path", path=str(tmp_path)), LoadOptions()
        )


def test_importing_the_annotators_loads_no_torch_or_opencv() -> None:
    code = (
        "import sys; import tools.runners.mlsd, tools.runners.mlsd_network, tools.runners.hed; "
        "assert not {'torch', 'cv2'} & set(sys.modules), sorted({'torch', 'cv2'} & set(sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
