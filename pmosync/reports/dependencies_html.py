"""The dependency picture as an HTML page: the SVG inline, the findings and links as tables."""

from __future__ import annotations

from markupsafe import Markup

from pmosync.reports.dependencies_build import DepPicture
from pmosync.reports.dependencies_svg import EDGE_TEXT, render_dependencies_svg
from pmosync.reports.templating import environment

_SEVERITY = {"high": 0, "medium": 1, "low": 2}


def render_dependencies_html(picture: DepPicture) -> str:
    notes = []
    if not picture.checked:
        notes.append(
            "Dependency checks were not computed for this run: grey links are not checked, "
            "not known to be fine."
        )
    if not picture.critical_computed:
        notes.append("The critical chain was not computed for this run (no schedule results).")
    labels = {n.id: f"{n.label} ({n.project_label})" for n in picture.nodes}
    links = [
        (labels[e.source], labels[e.target], EDGE_TEXT[e.state])
        for e in picture.edges
        if e.cross_project
    ]
    findings = (
        sorted(picture.findings, key=lambda f: (_SEVERITY.get(f.severity, 3), f.kind))
        if picture.findings is not None
        else None
    )
    # The SVG is built by our own renderer, which escapes every value from a tool.
    svg = Markup(render_dependencies_svg(picture))  # noqa: S704
    return (
        environment()
        .get_template("dependencies.html.j2")
        .render(
            title=picture.title,
            as_of=picture.as_of,
            notes=notes,
            svg=svg,
            findings=findings,
            links=sorted(links),
        )
    )
