"""What both kinds check of a task with ``@card(type="blank", id="mfx")`` (flows/*/card_flow.py)."""

from __future__ import annotations

from typing import Any


def card_problem(task: Any) -> str:
    """Why ``get_cards(task)`` does not return this task's card ("" when it does)."""
    from metaflow.cards import get_cards

    run_id = task.pathspec.split("/")[1]
    try:
        cards = list(get_cards(task, id="mfx"))
    except Exception as exc:  # CardNotPresentException, an unreadable root ...
        meta = task.metadata_dict
        return "get_cards(%s) raised %s: %s (the client read %s/mf.cards; ds-type=%r)" % (
            task.pathspec, type(exc).__name__, str(exc)[:300], meta.get("ds-root"), meta.get("ds-type"))
    if len(cards) != 1:
        return "get_cards(%s, id='mfx') returned %d cards, expected 1" % (task.pathspec, len(cards))
    html = cards[0].get() or ""
    if "mfx-card-token %s" % run_id not in card_text(html):
        return "the card of %s does not hold this run's text (%d characters of HTML)" % (task.pathspec, len(html))
    return ""


def card_text(html: str) -> str:
    """The card's HTML with its embedded data decoded (Metaflow stores it base64-encoded in
    ``window.__MF_DATA__[...] = "..."``)."""
    import base64
    import binascii
    import re

    decoded = []
    for blob in re.findall(r'__MF_DATA__\[[^\]]*\]\s*=\s*"([A-Za-z0-9+/=]+)"', html):
        try:
            decoded.append(base64.b64decode(blob).decode("utf-8", errors="replace"))
        except (binascii.Error, ValueError):
            continue
    return html + "\n" + "\n".join(decoded)
