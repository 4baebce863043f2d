"""The web UI: a chat page at /ui that shows each stage as it happens and the results inline."""

from hugginggpt.ui.page import UI_PATH, build_page, mount_ui

__all__ = ["UI_PATH", "build_page", "mount_ui"]
