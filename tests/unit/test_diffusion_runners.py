"""Image-to-image, image-editing, text-to-video, ControlNet and model annotator runners, on tiny models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fixtures.tiny_diffusion import OPTIONS, SPECS
from tools.artifacts import InputError, Workspace
from tools.models import ModelCard
from tools.registry import CONTROL_KINDS, TASKS
from tools.runners import annotators, controlnet, diffusion_edit, hed, video
from tools.runners.base import Call, LoadOptions, Runner, TaskOutput

RUNNERS = {
    r.name: r
    for r in (*diffusion_edit.RUNNERS, *video.RUNNERS, *controlnet.RUNNERS, *annotators.RUNNERS, *hed.RUNNERS)
}
MODULES = ("diffusion_edit", "video", "controlnet", "annotators", "hed", "packaged.mediapipe_pose")
SIZE = (48, 40)


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelCard]:
    import torch

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("tiny-diffusion")
    built: dict[str, ModelCard] = {}
    for model_id, (task, *_, build) in SPECS.items():
        folder = root / model_id.split("/", 1)[1]
        build(folder)
        built[model_id] = ModelCard(
            id=model_id, task=task, source="path", path=str(folder), options=dict(OPTIONS.get(task, {}))
        )
    return built


@pytest.fixture(scope="module")
def loaded(cards: dict[str, ModelCard]) -> dict[str, Any]:
    return {model_id: RUNNERS[card.runner_name].load(card, LoadOptions()) for model_id, card in cards.items()}


@pytest.fixture
def inputs(tmp_path: Path) -> Workspace:
    for name, colour in (
        ("photo.png", (200, 30, 30)),
        ("green.png", (20, 220, 40)),
        ("blue.png", (0, 0, 230)),
    ):
        image = Image.new("RGB", SIZE, colour)
        image.paste((250, 250, 250), (10, 8, 30, 24))
        image.save(tmp_path / name)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    return Workspace(tmp_path / "ws", base=tmp_path)


def _call(card: ModelCard, workspace: Workspace, **args: str) -> Call:
    return Call(args=args, workspace=workspace, stem=f"t-{card.task}", options=dict(card.options))


def _run(card: ModelCard, model: Any, workspace: Workspace, **args: str) -> TaskOutput:
    return RUNNERS[card.runner_name].run(model, _call(card, workspace, **args))


def _png(path: str | None, workspace: Workspace) -> np.ndarray:
    assert path is not None and Path(path).parent == workspace.root and path.endswith(".png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        return np.asarray(image)


def test_every_control_kind_and_editing_task_has_a_runner() -> None:
    expected = {"transformers/image-to-image", "transformers/image-editing", "transformers/text-to-video"}
    expected |= {f"transformers/{kind}-text-to-image" for kind in CONTROL_KINDS}
    assert expected <= set(RUNNERS)
    assert all(TASKS[name.split("/", 1)[1]].default_runner == name for name in expected)


def test_import_loads_no_heavy_module() -> None:
    imports = "; ".join(f"import tools.runners.{module}" for module in MODULES)
    heavy = ("torch", "transformers", "diffusers", "cv2", "mediapipe", "av")
    code = f"import sys; {imports}; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_fit_image_scales_down_to_multiples_of_8() -> None:
    fitted = diffusion_edit.fit_image(Image.new("RGB", (1000, 500)), 768)
    assert fitted.size == (768, 384)
    assert diffusion_edit.fit_image(Image.new("RGB", (45, 21)), 768).size == (40, 16)


def test_image_to_image(cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace) -> None:
    model_id = "tiny/stable-diffusion-image-to-image"
    card, model = cards[model_id], loaded[model_id]
    output = _run(card, model, inputs, image="photo.png", text="a watercolour painting")
    assert _png(output.image, inputs).shape == (SIZE[1], SIZE[0], 3)
    assert output.data == {"width": SIZE[0], "height": SIZE[1], "num_inference_steps": 2}
    assert _run(card, model, inputs, image="photo.png").image  # the prompt is optional
    with pytest.raises(InputError, match="not a readable image"):
        _run(card, model, inputs, image="broken.png")


def test_image_editing(cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace) -> None:
    model_id = "tiny/instruct-pix2pix-image-editing"
    card, model = cards[model_id], loaded[model_id]
    output = _run(card, model, inputs, image="photo.png", text="make it snow")
    assert _png(output.image, inputs).shape == (SIZE[1], SIZE[0], 3)
    with pytest.raises(InputError, match="instruction"):
        _run(card, model, inputs, image="photo.png", text="  ")
    with pytest.raises(InputError, match="not found"):
        _run(card, model, inputs, image="missing.png", text="make it snow")


def test_image_editing_refuses_a_plain_sd_folder(cards: dict[str, ModelCard]) -> None:
    plain = cards["tiny/stable-diffusion-image-to-image"]
    with pytest.raises(ValueError, match="not an InstructPix2Pix model"):
        diffusion_edit.load_image_editing(plain, LoadOptions())


def test_text_to_video_writes_a_browser_mp4(
    cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace
) -> None:
    import av

    model_id = "tiny/text-to-video-sd"
    output = _run(cards[model_id], loaded[model_id], inputs, text="a cat running")
    assert output.video is not None and output.video.endswith(".mp4")
    assert output.data == {"frames": 4, "width": 32, "height": 32, "fps": 4, "num_inference_steps": 2}
    content = Path(output.video).read_bytes()
    assert content.index(b"moov") < content.index(b"mdat")  # faststart: playable while downloading
    with av.open(output.video) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert len(list(container.decode(stream))) == 4
    with pytest.raises(InputError, match="prompt"):
        _run(cards[model_id], loaded[model_id], inputs, text="")


def test_encode_mp4_crops_odd_sides_and_rejects_bad_frames(tmp_path: Path) -> None:
    import av

    path = tmp_path / "clip.mp4"
    path.write_bytes(video.encode_mp4(np.random.default_rng(0).random((3, 17, 23, 3)), fps=5))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (22, 16)
    with pytest.raises(ValueError, match="RGB frames"):
        video.encode_mp4(np.zeros((3, 16, 16)))


@pytest.mark.parametrize("kind", ["canny", "depth", "openpose"])
def test_controlnet_generates_from_a_condition(
    kind: str, cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace
) -> None:
    model_id = f"tiny/controlnet-{kind}"
    card, model = cards[model_id], loaded[model_id]
    output = _run(card, model, inputs, image="photo.png", text="a red house")
    assert _png(output.image, inputs).shape == (SIZE[1], SIZE[0], 3)
    with pytest.raises(InputError, match="prompt"):
        _run(card, model, inputs, image="photo.png", text="")


def test_controlnet_needs_a_base_model_and_keys_on_it(cards: dict[str, ModelCard]) -> None:
    card = cards["tiny/controlnet-canny"]
    bare = ModelCard(id=card.id, task=card.task, source="path", path=card.path)
    with pytest.raises(ValueError, match="options.base_model"):
        controlnet.load_controlnet(bare, LoadOptions())
    runner: Runner = RUNNERS["transformers/depth-text-to-image"]
    assert runner.cache_key(card) == f"{controlnet.SHARED_NAME}::{card.location}::[('base_model', 'base')]"
    assert controlnet.base_model_location(card) == str(Path(card.location) / "base")


@pytest.mark.parametrize(
    ("model_id", "runner_name"),
    [
        ("tiny/dpt-depth-control", "transformers/depth-control"),
        ("tiny/dpt-normal-control", "transformers/normal-control"),
        ("tiny/segformer-seg-control", "transformers/seg-control"),
    ],
)
def test_model_annotators_batch_like_single_calls(
    model_id: str, runner_name: str, cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace
) -> None:
    runner, card, model = RUNNERS[runner_name], cards[model_id], loaded[model_id]
    names = ["photo.png", "green.png", "blue.png"]
    batch = runner.forward(model, [_call(card, inputs, image=name) for name in names])
    alone = [runner.run(model, _call(card, inputs, image=name)) for name in names]
    for together, single in zip(batch, alone, strict=True):
        assert isinstance(together, TaskOutput)
        pixels = _png(together.image, inputs)
        assert pixels.shape == (SIZE[1], SIZE[0], 3)
        assert np.abs(pixels.astype(int) - _png(single.image, inputs).astype(int)).max() <= 2
    mixed = runner.forward(model, [_call(card, inputs, image=name) for name in ("photo.png", "broken.png")])
    assert isinstance(mixed[0], TaskOutput) and isinstance(mixed[1], InputError)


def test_normal_map_holds_unit_vectors(
    cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace
) -> None:
    model_id = "tiny/dpt-normal-control"
    pixels = _png(_run(cards[model_id], loaded[model_id], inputs, image="photo.png").image, inputs)
    vectors = (pixels.astype(float) - 127.5) / 127.5
    assert np.allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=0.03)
    assert (pixels[..., 2] >= 127).all()  # z points at the viewer


def test_seg_map_uses_ade20k_colours(
    cards: dict[str, ModelCard], loaded: dict[str, Any], inputs: Workspace
) -> None:
    model_id = "tiny/segformer-seg-control"
    output = _run(cards[model_id], loaded[model_id], inputs, image="photo.png")
    colours = {tuple(colour) for colour in _png(output.image, inputs).reshape(-1, 3)}
    assert colours <= {annotators.ade20k_colour(index) for index in range(3)}
    assert abs(sum(segment["share"] for segment in output.data["segments"]) - 1.0) < 1e-6


def test_ade20k_palette() -> None:
    assert len(annotators.ADE20K_PALETTE_HEX) == 150 * 6
    assert annotators.ade20k_colour(0) == (120, 120, 120)
    assert annotators.ade20k_colour(149) == (92, 0, 255)
    assert annotators.ade20k_colour(150) == annotators.ade20k_colour(0)


def test_hed_runs_its_network_from_a_weights_file(tmp_path: Path, inputs: Workspace) -> None:
    import torch

    folder = tmp_path / "annotators"
    folder.mkdir()
    torch.manual_seed(0)
    torch.save(hed.build_hed_network().state_dict(), folder / hed.WEIGHTS_FILE)
    card = ModelCard(
        id="lllyasviel/Annotators",
        task="hed-control",
        source="path",
        path=str(folder),
        options={"detect_resolution": 64},
    )
    runner = RUNNERS["transformers/hed-control"]
    output = runner.run(runner.load(card, LoadOptions()), _call(card, inputs, image="photo.png"))
    pixels = _png(output.image, inputs)
    assert pixels.shape == (SIZE[1], SIZE[0], 3)
    assert (pixels[..., 0] == pixels[..., 2]).all()  # grey
    assert 0.0 < output.data["mean_edge"] < 1.0


def test_hed_without_its_weights_says_so(tmp_path: Path) -> None:
    runner = RUNNERS["transformers/hed-control"]
    folder_card = ModelCard(id="local/hed", task="hed-control", source="path", path=str(tmp_path))
    with pytest.raises(annotators.NoOfflineModelError, match="no model available offline for hed-control"):
        runner.load(folder_card, LoadOptions())
    hub_card = ModelCard(id="no-such-org/no-such-annotators", task="hed-control")
    with pytest.raises(annotators.NoOfflineModelError, match="hf download no-such-org/no-such-annotators"):
        runner.load(hub_card, LoadOptions())
