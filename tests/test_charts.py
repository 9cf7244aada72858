"""The chart of stuck orders per reason: drawn with matplotlib only when a surface needs it, a
real PNG, written to a file by the CLI and uploaded with files_upload_v2 in Slack."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MANAGER
from fake_slack import FakeSlack
from slack_harness import serve_bot

from bot.charts import Bar, ReasonChart, png
from bot.present import present_result
from bot.present.model import Figure
from bot.present.reports import reason_chart
from bot.present.text import figures, to_text

BOT = Path(__file__).resolve().parent.parent / "bot"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAYA = "U0MAYA0001"


def decoded(data: bytes):
    """The PNG opened by Pillow (fully decoded), and matplotlib's own reader agrees."""
    from matplotlib import image
    from PIL import Image

    assert data[:8] == PNG_SIGNATURE
    picture = Image.open(io.BytesIO(data))
    picture.load()
    assert picture.format == "PNG"
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[0] == picture.height and pixels.shape[1] == picture.width
    return picture


# -- the chart itself --------------------------------------------------------------------


def test_a_reason_chart_is_a_decodable_png_with_room_for_every_bar():
    chart = ReasonChart(
        "Stuck orders per reason",
        (Bar("LULU_NOT_CONFIRMED", 25, 5.29, True), Bar("SWIFT_RETURN", 9, 5.0)),
        "last 24h",
        "expected per 24h",
    )
    picture = decoded(png(chart))
    assert picture.width > 600 and picture.height > 150
    assert "spikes: LULU_NOT_CONFIRMED 25 vs 5.29 expected" in chart.alt()


def test_an_empty_chart_still_draws():
    decoded(png(ReasonChart("Nothing stuck", (), "last 24h", "expected")))


def test_an_equal_chart_is_drawn_once_and_a_changed_one_afresh():
    def chart(recent: int) -> ReasonChart:
        return ReasonChart("Drawn once", (Bar("SWIFT_RETURN", recent, 5.0),), "24h", "expected")

    first = png(chart(9))
    assert png(chart(9)) is first  # an equal value: the same picture, not drawn again
    changed = png(chart(10))
    assert changed is not first and changed != first


def test_the_pattern_result_charts_each_reason_with_its_baseline_and_flags_the_spike(demo):
    data = demo.chat(MANAGER, "patterns").result.data
    series = {s["reason"]: s for s in data["by_reason"]}
    flagged = {a["value"] for a in data["anomalies"] if a["dimension"] == "stuck_reason"}
    assert flagged and {r for r, s in series.items() if s["flagged"]} == flagged
    assert data["by_reason"][0]["flagged"]  # the spikes come first
    for anomaly in data["anomalies"]:
        if anomaly["dimension"] == "stuck_reason":
            same = series[anomaly["value"]]
            assert (same["recent"], same["baseline"]) == (anomaly["observed"], anomaly["baseline"])
    chart = reason_chart(data)
    assert chart is not None and [b.label for b in chart.bars] == list(series)


def test_the_pattern_report_and_the_digest_carry_the_chart_as_a_figure(demo):
    for text in ("patterns", "daily flow"):
        view = present_result(demo.chat(MANAGER, text).result)
        (figure,) = figures(view)
        assert isinstance(figure, Figure) and figure.filename.endswith(".png")
        assert "📊 Chart: " + figure.alt in to_text(view)
        decoded(figure.draw())


# -- imported only when drawn ------------------------------------------------------------


def test_only_the_adapter_imports_matplotlib():
    found = set()
    heavy = ("matplotlib", "numpy", "PIL")
    for path in BOT.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if not any(name in source for name in heavy):
            continue  # an import of one names it in the source: only these files are parsed
        for node in ast.walk(ast.parse(source)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] in heavy for n in names):
                found.add(str(path.relative_to(BOT.parent)))
    assert found == {"bot/charts/mpl.py"}


def test_presenting_a_report_loads_no_plotting_library_until_the_chart_is_drawn():
    code = (
        "import sys\n"
        "from bot.present.reports import pattern_report\n"
        "import bot.slack.delivery, bot.cli.common\n"
        "data = {'window_hours': 24, 'baseline_days': 7, 'rule': 'r', 'anomalies': [],\n"
        "        'by_reason': [{'reason': 'X', 'recent': 3, 'baseline': 1.0, 'flagged': False}]}\n"
        "view = pattern_report(data)\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print('BEFORE', sorted(loaded & {'matplotlib', 'numpy'}))\n"
        "view.elements[-1].draw()\n"
        "print('AFTER', 'matplotlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "BEFORE []" in out and "AFTER True" in out, out


def test_cli_help_imports_no_plotting_library():
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['ecm-bot', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & "
        "{'matplotlib', 'numpy', 'PIL'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "HEAVY []" in out, out


# -- the CLI -----------------------------------------------------------------------------


def test_cli_patterns_writes_the_chart_and_prints_its_path(demo):
    from click.testing import CliRunner

    from bot.cli import load_commands

    out = CliRunner().invoke(load_commands(), ["patterns"])
    assert out.exit_code == 0, out.output
    line = next(ln for ln in out.output.splitlines() if ln.startswith("📊 Chart written to "))
    path = Path(line.removeprefix("📊 Chart written to "))
    assert path.parent == demo.path / "charts" and path.is_file()
    decoded(path.read_bytes())
    assert "🔎 Patterns" in out.output and "📊 Chart: " in out.output


def test_cli_patterns_json_is_only_the_data(demo):
    from click.testing import CliRunner

    from bot.cli import load_commands

    out = CliRunner().invoke(load_commands(), ["patterns", "--json"])
    assert out.exit_code == 0 and "by_reason" in json.loads(out.output)
    assert not (demo.path / "charts").exists()


# -- Slack -------------------------------------------------------------------------------


@pytest.fixture
def slack(triaged):
    fake = FakeSlack().start()
    served = serve_bot(triaged.registry, triaged.path, fake)
    served.demo = triaged
    yield served
    served.stop()
    fake.stop()


def uploaded(fake) -> tuple[dict, dict, bytes]:
    """The one upload: files.getUploadURLExternal, the bytes POSTed to its URL, then
    files.completeUploadExternal."""
    complete = fake.wait_for(lambda f: f.of("files.completeUploadExternal"))[0]
    (asked,) = fake.of("files.getUploadURLExternal")
    (sent,) = fake.of("upload")
    methods = [m for m, _ in fake.calls]
    at = methods.index("files.getUploadURLExternal")
    assert methods.index("upload") > at and methods.index("files.completeUploadExternal") > at
    data = fake.uploads[sent["file_id"]]
    assert int(asked["length"]) == len(data) == sent["length"]
    assert complete["files"][0]["id"] == sent["file_id"]
    return asked, complete, data


def test_patterns_by_mention_replies_in_the_thread_and_uploads_the_chart_there(slack):
    assert slack.mention(MAYA, "patterns").status == 200
    asked, complete, data = uploaded(slack.fake)
    reply = next(p for p in slack.fake.of("chat.postMessage") if "Patterns" in json.dumps(p))
    assert reply["channel"] == "COPS" and reply.get("thread_ts")
    assert complete["channel_id"] == "COPS" and complete["thread_ts"] == reply["thread_ts"]
    assert asked["filename"] == "ecm-stuck-by-reason.png"
    assert "LULU_NOT_CONFIRMED" in asked["alt_txt"]
    assert complete["files"][0]["title"].startswith("Stuck orders per reason")
    decoded(data)
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "chart attached" in text


def test_patterns_by_slash_command_sends_the_chart_to_the_callers_dm(slack):
    slack.command(MAYA, "patterns")
    _, complete, data = uploaded(slack.fake)
    assert complete["channel_id"] == f"D{MAYA}" and not complete.get("thread_ts")
    decoded(data)
    assert any("Patterns" in json.dumps(p) for p in slack.fake.answers())
