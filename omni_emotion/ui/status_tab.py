"""Status tab: which engine, face detector and device run, every registered engine and detector and whether
it can run here, which model files are present or missing (with the command that gets each one), and for each
assembled Omni-Emotion model its mode and which streams reach the LLM."""

from __future__ import annotations

import platform
from typing import Any

import gradio as gr

from omni_emotion import __version__
from omni_emotion.ui.context import UIContext

__all__ = ["build_status_tab", "readiness", "status_report"]

WEIGHT_COLUMNS = ["model", "engine", "purpose", "present", "where / how to get it"]


def status_report(ctx: UIContext) -> dict[str, Any]:
    """Engine, detector, device, CUDA availability, the registries, and one row per known model file
    (JSON-able). The folder key is "location", not "path": gradio_client takes any dict with a "path" for a
    file to download."""
    import torch

    from omni_emotion.engines.registry import ENGINES
    from omni_emotion.faces.registry import DETECTORS
    from omni_emotion.model.config import streams_sentence
    from omni_emotion.weights import REGISTRY, status

    pipeline = ctx.pipeline
    purposes = {item.name: item for item in REGISTRY}
    rows = []
    for item in status(pipeline.weights_dir, streams_of=streams_sentence):
        spec = purposes[item.name]
        rows.append(
            {
                "model": item.name,
                "engine": spec.engine,
                "purpose": spec.purpose,
                "present": item.present,
                "location": item.path,
                "get": item.get,
                "streams": item.streams,
            }
        )
    return {
        "version": __version__,
        "engine": pipeline.engine_name,
        "face_backend": pipeline.face_backend,
        "device": pipeline.device,
        "weights_dir": str(pipeline.weights_dir),
        "engines": [
            {"name": e.name, "summary": e.summary, "available": e.available(pipeline.weights_dir)}
            for e in ENGINES.entries()
        ],
        "face_detectors": [
            {"name": d.name, "summary": d.summary, "available": d.available()} for d in DETECTORS.entries()
        ],
        "cuda": torch.cuda.is_available(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gradio": gr.__version__,
        "data_dirs": [str(d) for d in ctx.config.data_dirs],
        "weights": rows,
    }


def readiness(report: dict[str, Any]) -> str:
    """Two sentences: whether the engine in use has every model file it needs, then what the other files
    are for (optional: nothing the running engine misses)."""
    engine = report["engine"]
    # a face detector's own model file (named by the detector or in its summary) is needed only in use
    other_detectors = [d for d in report.get("face_detectors", []) if d["name"] != report.get("face_backend")]

    def needs(row: dict[str, Any]) -> bool:
        if row["engine"] == engine:
            return True
        return row["engine"] == "perception" and not any(
            row["model"] == d["name"] or row["model"] in d.get("summary", "") for d in other_detectors
        )

    needed = [w for w in report["weights"] if needs(w)]
    lacking = [w["model"] for w in needed if not w["present"]]
    if lacking:
        first = (
            f"**Not ready:** the `{engine}` engine lacks {len(lacking)} of the {len(needed)} model "
            f"files it needs ({', '.join(lacking)}); the table says how to get each."
        )
    else:
        first = f"**Ready:** the `{engine}` engine in use has all {len(needed)} model files it needs."
    optional = [w for w in report["weights"] if not needs(w)]
    if not optional:
        return first
    parts = []
    for group in sorted({w["engine"] for w in optional}, key=lambda g: g == "perception"):
        rows = [w for w in optional if w["engine"] == group]
        present = sum(w["present"] for w in rows)
        if group == "perception":
            parts.append(
                f"{len(rows)} for another face detector ({', '.join(w['model'] for w in rows)}; "
                f"{present} present), used with `--face-backend`"
            )
        else:
            gpu = " and a CUDA GPU" if group == "omni" else ""
            parts.append(
                f"{len(rows)} for the `{group}` engine ({present} present; with all of them{gpu}, "
                "`--engine auto` picks it)"
            )
    return f"{first}\n\nOptional: " + "; ".join(parts) + "."


def _render(report: dict[str, Any]) -> tuple[str, list[list[Any]]]:
    head = (
        f"{readiness(report)}\n\n"
        f"**Engine:** {report['engine']} · **face detector:** {report['face_backend']} · "
        f"**device:** {report['device']} · CUDA available: "
        f"{'yes' if report['cuda'] else 'no'} · omni-emotion {report['version']}, torch {report['torch']}, "
        f"gradio {report['gradio']}, Python {report['python']}"
    )
    for kind, key in (("Engines", "engines"), ("Face detectors", "face_detectors")):
        head += f"\n\n**{kind}** (`auto` takes the first that can run here):\n" + "".join(
            f"\n- `{e['name']}` ({'can run here' if e['available'] else 'cannot run here'}): {e['summary']}"
            for e in report[key]
        )
    head += f"\n\nWeights folder: `{report['weights_dir']}`."
    for w in report["weights"]:
        if w.get("streams"):
            head += f"\n\n**{w['model']}** runs {w['streams']}."
    rows = [
        [
            w["model"],
            w["engine"],
            w["purpose"],
            "yes" if w["present"] else "missing",
            w["location"] if w["present"] else w["get"],
        ]
        for w in report["weights"]
    ]
    return head, rows


def build_status_tab(ctx: UIContext) -> None:
    def refresh() -> tuple[str, list[list[Any]], dict[str, Any]]:
        report = status_report(ctx)
        return (*_render(report), report)

    with gr.Tab("Status", id="status") as tab:
        head = gr.Markdown(elem_id="status-head")
        table = gr.Dataframe(
            headers=WEIGHT_COLUMNS,
            interactive=False,
            wrap=True,
            elem_id="status-weights",
            column_widths=["15%", "9%", "33%", "8%", "35%"],
        )
        with gr.Accordion("Status JSON", open=False):
            raw = gr.JSON()
        button = gr.Button("Refresh")
    button.click(refresh, outputs=[head, table, raw], api_name="status", concurrency_limit=None)
    tab.select(refresh, outputs=[head, table, raw], api_visibility="private", concurrency_limit=None)
