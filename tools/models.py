"""The model catalog: cards from `configs/`, ranked by downloads (availability is the backends' to say)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from tools.registry import TASKS

logger = logging.getLogger(__name__)

Source = Literal["hub", "path", "package"]


@dataclass(frozen=True)
class ModelCard:
    """One expert model the selector may choose.

    Attributes:
        id: the Hugging Face id (or a local name for packaged models).
        task: the task type it serves.
        downloads: hub downloads, the ranking key.
        likes: hub likes, shown to the selector.
        description: one line for the selector prompt.
        source: ``hub`` (loaded by id, from the HF cache offline), ``path`` (a local folder) or
            ``package`` (weights shipped inside an installed Python package).
        path: the folder, for ``source: path``.
        package: the importable module that must be installed, for ``source: package``.
        runner: the runner name; empty means the task's default runner.
        options: runner settings (generation length, language, ...).
    """

    id: str
    task: str
    downloads: int = 0
    likes: int = 0
    description: str = ""
    source: Source = "hub"
    path: str | None = None
    package: str | None = None
    runner: str = ""
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def location(self) -> str:
        """Return what `from_pretrained` takes: the local folder, or the hub id."""
        return self.path if self.source == "path" and self.path else self.id

    @property
    def runner_name(self) -> str:
        """Return this card's runner, or its task's default runner."""
        return self.runner or TASKS[self.task].default_runner


class CatalogError(ValueError):
    """The catalog file is malformed."""


@dataclass(frozen=True)
class Catalog:
    """All model cards, with the availability rule of one machine.

    Attributes:
        cards: every card, in file order.
        hub_online: whether the Hugging Face Hub may be reached (downloads allowed).
    """

    cards: tuple[ModelCard, ...]
    hub_online: bool = False

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]], hub_online: bool = False) -> Catalog:
        """Load and merge catalog files (YAML lists of cards; a later file adds cards, never replaces).

        Args:
            paths: catalog files; relative ``path`` entries resolve against each file's folder.
            hub_online: whether hub models that are not cached count as available.

        Returns:
            The catalog.

        Raises:
            CatalogError: naming the file and entry that is wrong.
        """
        cards: list[ModelCard] = []
        seen: dict[tuple[str, str], Path] = {}
        for path in paths:
            for card in _read_cards(Path(path)):
                if (card.id, card.task) in seen:
                    raise CatalogError(
                        f"{path}: model {card.id} for {card.task} is already in {seen[card.id, card.task]}"
                    )
                seen[card.id, card.task] = Path(path)
                cards.append(card)
        return cls(tuple(cards), hub_online)

    def candidates(self, task: str, top_k: int) -> list[ModelCard]:
        """Return the top-k cards for ``task``, most downloaded first, whether or not they can run here.

        Which of them can run now is the backends' to say (`tools.backends.router.Backends.candidates`).
        """
        return rank([card for card in self.cards if card.task == task])[:top_k]

    def get(self, model_id: str, task: str | None = None) -> ModelCard | None:
        """Return the card with this id (and task, when given), or None."""
        for card in self.cards:
            if card.id == model_id and (task is None or card.task == task):
                return card
        return None


def _read_cards(path: Path) -> list[ModelCard]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as error:
        raise CatalogError(f"cannot read catalog {path}: {error}") from error
    entries = raw.get("models", []) if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise CatalogError(f"catalog {path} must be a list of models (or a mapping with a `models` list)")
    return [_card(entry, path, index) for index, entry in enumerate(entries)]


def _card(entry: Any, path: Path, index: int) -> ModelCard:
    where = f"{path} entry {index}"
    if not isinstance(entry, dict) or "id" not in entry or "task" not in entry:
        raise CatalogError(f"{where}: a model needs at least `id` and `task`")
    if entry["task"] not in TASKS:
        raise CatalogError(f"{where}: unknown task {entry['task']!r}")
    fields = dict(entry)
    if fields.get("path"):
        fields["path"] = str((path.parent / os.path.expandvars(str(fields["path"]))).resolve())
        fields.setdefault("source", "path")
    try:
        return ModelCard(**fields)
    except TypeError as error:
        raise CatalogError(f"{where}: {error}") from error


def rank(cards: Sequence[ModelCard]) -> list[ModelCard]:
    """Return ``cards`` most downloaded first (ties: more likes, then id)."""
    return sorted(cards, key=lambda card: (-card.downloads, -card.likes, card.id))
