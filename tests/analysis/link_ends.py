"""The ends of a random summary link, shared by the hub property tests."""

from __future__ import annotations

from hypothesis import strategies as st


def draw_link_ends(
    draw: st.DrawFn, summaries: list[str], ends: list[str], *, loops: bool
) -> tuple[str, str]:
    """A summary at one end (either way round), any other end at the other; without
    ``loops``, by name order, so the links never close a loop."""
    a = draw(st.sampled_from(summaries))
    b = draw(st.sampled_from([e for e in ends if e != a]))
    if draw(st.booleans()):
        a, b = b, a
    if not loops:
        a, b = sorted((a, b))
    return a, b
