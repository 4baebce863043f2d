"""M-LSD's ``MobileV2_MLSD_Large`` line-segment network in plain torch (ControlNet's mlsd annotator).

A MobileNetV2 trunk (its first 14 feature blocks, on RGB plus a constant fourth channel, with TFLite-style
padding before strided convolutions) feeds four upsampling stages and a dilated head. The output, at half the
input's size, holds per pixel a line-centre logit and the displacements to the two ends of the segment there.
Module names and parameter shapes are those of ``mbv2_mlsd_large.py`` (NAVER's M-LSD, as ControlNet and
``controlnet_aux`` ship it), so ``mlsd_large_512_fp32.pth`` loads with ``strict=True``.
"""

from __future__ import annotations

from typing import Any

TRUNK_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))
"""MobileNetV2's (expansion, channels, repeats, first stride) rows the trunk keeps (its last two are cut)."""
TRUNK_TAPS = (1, 3, 6, 10, 13)
"""The feature blocks whose outputs feed the decoder, shallowest first."""
FIRST_CHANNELS = 32
DECODER_STAGES = ((64, 96, False), (32, 64, True), (24, 64, True), (16, 64, True))
"""(skip channels, incoming channels, upsample the incoming map) of blocks 15, 17, 19 and 21."""
DECODER_WIDTH = 64
HEAD_CHANNELS = 16
OUTPUT_FROM = 7
"""The head's channels from this one on are the output: centre logit, 4 end displacements, 4 unused maps."""


def build_mlsd_network() -> Any:
    """Return an untrained ``MobileV2_MLSD_Large`` (a torch module whose state dict matches the weights file).

    Returns:
        The module: input ``(N, 4, H, W)`` (RGB scaled to [-1, 1] and a channel of ones; H and W multiples of
        32), output ``(N, 9, H/2, W/2)``.
    """
    from torch import nn

    return _network_class(nn)()


def _network_class(nn: Any) -> Any:
    trunk_class = _trunk_class(nn)

    def conv_bn_relu(inputs: int, outputs: int, kernel: int, padding: int = 0, dilation: int = 1) -> Any:
        return nn.Sequential(
            nn.Conv2d(inputs, outputs, kernel, padding=padding, dilation=dilation),
            nn.BatchNorm2d(outputs),
            nn.ReLU(),
        )

    class Merge(nn.Module):  # the reference's BlockTypeA: 1x1 both inputs, upsample the deep one, concatenate
        def __init__(self, skip: int, incoming: int, upscale: bool) -> None:
            super().__init__()
            self.conv1 = conv_bn_relu(incoming, DECODER_WIDTH, 1)
            self.conv2 = conv_bn_relu(skip, DECODER_WIDTH, 1)
            self.upscale = upscale

        def forward(self, skip: Any, incoming: Any) -> Any:
            deep = self.conv1(incoming)
            if self.upscale:
                deep = nn.functional.interpolate(deep, scale_factor=2.0, mode="bilinear", align_corners=True)
            return _cat(self.conv2(skip), deep)

    class Refine(nn.Module):  # BlockTypeB: a residual 3x3, then a 3x3 down to the decoder width
        def __init__(self, channels: int, outputs: int) -> None:
            super().__init__()
            self.conv1 = conv_bn_relu(channels, channels, 3, padding=1)
            self.conv2 = conv_bn_relu(channels, outputs, 3, padding=1)

        def forward(self, x: Any) -> Any:
            return self.conv2(self.conv1(x) + x)

    class Head(nn.Module):  # BlockTypeC: a dilated 3x3, a 3x3, a 1x1 to the output maps
        def __init__(self, channels: int, outputs: int) -> None:
            super().__init__()
            self.conv1 = conv_bn_relu(channels, channels, 3, padding=5, dilation=5)
            self.conv2 = conv_bn_relu(channels, channels, 3, padding=1)
            self.conv3 = nn.Conv2d(channels, outputs, 1)

        def forward(self, x: Any) -> Any:
            return self.conv3(self.conv2(self.conv1(x)))

    class MobileV2MlsdLarge(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = trunk_class()
            for index, (skip, incoming, upscale) in enumerate(DECODER_STAGES):
                self.add_module(f"block{15 + 2 * index}", Merge(skip, incoming, upscale))
                self.add_module(f"block{16 + 2 * index}", Refine(2 * DECODER_WIDTH, DECODER_WIDTH))
            self.block23 = Head(DECODER_WIDTH, HEAD_CHANNELS)

        def forward(self, x: Any) -> Any:
            taps = self.backbone(x)
            h = taps[-1]
            for index, skip in enumerate(reversed(taps[:-1])):
                h = getattr(self, f"block{15 + 2 * index}")(skip, h)
                h = getattr(self, f"block{16 + 2 * index}")(h)
            return self.block23(h)[:, OUTPUT_FROM:]

    return MobileV2MlsdLarge


def _cat(first: Any, second: Any) -> Any:
    import torch

    return torch.cat((first, second), dim=1)


def _trunk_class(nn: Any) -> Any:
    class ConvBNReLU6(
        nn.Sequential
    ):  # the reference's ConvBNReLU: stride 2 pads right and bottom, TFLite-style
        def __init__(
            self, inputs: int, outputs: int, kernel: int = 3, stride: int = 1, groups: int = 1
        ) -> None:
            padding = 0 if stride == 2 else (kernel - 1) // 2
            super().__init__(
                nn.Conv2d(inputs, outputs, kernel, stride, padding, groups=groups, bias=False),
                nn.BatchNorm2d(outputs),
                nn.ReLU6(),
            )
            self.stride = stride

        def forward(self, x: Any) -> Any:
            if self.stride == 2:
                x = nn.functional.pad(x, (0, 1, 0, 1), "constant", 0)
            return super().forward(x)

    class InvertedResidual(nn.Module):
        def __init__(self, inputs: int, outputs: int, stride: int, expansion: int) -> None:
            super().__init__()
            hidden = int(round(inputs * expansion))
            self.residual = stride == 1 and inputs == outputs
            expand = [ConvBNReLU6(inputs, hidden, kernel=1)] if expansion != 1 else []
            self.conv = nn.Sequential(
                *expand,
                ConvBNReLU6(hidden, hidden, stride=stride, groups=hidden),
                nn.Conv2d(hidden, outputs, 1, 1, 0, bias=False),
                nn.BatchNorm2d(outputs),
            )

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.residual else self.conv(x)

    class Trunk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            blocks, channels = [ConvBNReLU6(4, FIRST_CHANNELS, stride=2)], FIRST_CHANNELS
            for expansion, outputs, repeats, stride in TRUNK_SETTING:
                for repeat in range(repeats):
                    blocks.append(
                        InvertedResidual(channels, outputs, stride if repeat == 0 else 1, expansion)
                    )
                    channels = outputs
            self.features = nn.Sequential(*blocks)

        def forward(self, x: Any) -> list[Any]:
            taps = []
            for index, block in enumerate(self.features):
                x = block(x)
                if index in TRUNK_TAPS:
                    taps.append(x)
            return taps

    return Trunk
