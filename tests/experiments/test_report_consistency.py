"""The report never contradicts itself (issue 26, item 4), read from the built HTML as a reader would
(stdlib html.parser; no browser), for a tiny sweep of every strategy and a tiny PSA:

* every money figure (a £ amount in a table's header or cell, or in a figure's title or caption)
  says its horizon ("over 24 months", "in the first 12 months") and whether it is discounted, in its
  column header or its caption; unit prices (the assumptions' table of unit costs) have no horizon;
* "cost-effective at £X" is never said of a strategy the step-by-step frontier table rules out at
  £X per QALY (dominated, extendedly dominated, or its step dearer than £X per QALY), nor of "every
  strategy" while the table rules one out, and "N of M strategies are cost-effective" counts what
  the table says;
* the contents list's numbers are the numbers of the headings it links to, and the headings are
  numbered 1, 2, 3, ... in page order.

The checks are functions of the page's HTML (``money_problems``, ``cost_effective_problems``,
``contents_problems``), each returning what it found wrong, so that a failure names the header,
caption or sentence at fault. The report's threshold-free headline (the mean difference in measured
self-efficacy) and the responders-by-threshold figure and CSV are checked here too."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from in_process import sweep

from experiments.report import build as report
from experiments.report import data as report_data
from sim import economics
from sim.measurement import CURVE_THRESHOLDS_SD

pytestmark = pytest.mark.slow  # builds sweeps: started first (conftest.py)

#: A money figure: a £ amount ("£1,234", "−£5", "£0.27").
MONEY = re.compile(r"£\s?\d[\d,]*(?:\.\d+)?")
#: A horizon: "over 24 months", "in the first 12 months", "first 12 months".
HORIZON = re.compile(r"\b(?:over|first)\s+\d+\s+(?:months|weeks|years)\b", re.I)
#: Whether a money figure is discounted: "discounted" or "undiscounted".
DISCOUNTING = re.compile(r"\b(?:un)?discounted\b", re.I)
#: Willingness-to-pay thresholds are prices per QALY a decision maker sets, not amounts over a horizon.
THRESHOLDS = tuple(f"£{w:,}" for w in economics.WTP_THRESHOLDS_GBP)


# --- reading the page -------------------------------------------------------------------------------


class Page(HTMLParser):
    """The parts of a report page the checks read: tables (header and body cells, their class),
    figures (title and caption), section headings, the contents list and the page's text units
    (list items, paragraphs, captions, table cells, headings, image titles)."""

    UNITS = ("li", "p", "figcaption", "td", "th", "h2", "h3")

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.figures: list[dict] = []
        self.headings: list[tuple[str, str]] = []  # (id, text) of every <h2 id=...>
        self.contents: list[tuple[int, str]] = []  # (number shown, href) of the contents list
        self.units: list[str] = []
        self._open: list[list] = []  # [tag, attrs, text parts] of the open text units
        self._skip = 0  # inside <style> or <code>
        self._nav = False
        self._nav_items = 0
        self._table: dict | None = None
        self._row: list | None = None
        self._figure: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "code"):
            self._skip += 1
        elif tag == "nav":
            self._nav = True
        elif tag == "table":
            self._table = {"class": a.get("class", ""), "id": a.get("id", ""), "rows": []}
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag == "figure":
            self._figure = {"alt": "", "caption": ""}
        elif tag == "img":
            if self._figure is not None:
                self._figure["alt"] = a.get("alt", "")
            self.units.append(a.get("alt", ""))
        if tag in self.UNITS:
            self._open.append([tag, a, []])
        if tag == "li" and self._nav:
            self._nav_items += 1
            self._nav_value = int(a["value"]) if a.get("value") else self._nav_items
        if tag == "a" and self._nav and a.get("href", "").startswith("#"):
            self.contents.append((self._nav_value, a["href"][1:]))

    def handle_endtag(self, tag):
        if tag in ("style", "code"):
            self._skip -= 1
        elif tag == "nav":
            self._nav = False
        while tag in self.UNITS and any(u[0] == tag for u in self._open):  # closes what it left open too
            closed, attrs, parts = self._open.pop()
            if closed != tag:
                continue
            text = re.sub(r"\s+", " ", "".join(parts)).strip()
            self.units.append(text)
            if tag in ("td", "th") and self._row is not None:
                self._row.append((tag, text, int(attrs.get("rowspan") or 1)))
            elif tag == "h2" and attrs.get("id"):
                self.headings.append((attrs["id"], text))
            elif tag == "figcaption" and self._figure is not None:
                self._figure["caption"] = text
            break
        if tag == "tr" and self._table is not None and self._row is not None:
            self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.tables.append({**self._table, "rows": _grid(self._table["rows"])})
            self._table = None
        elif tag == "figure" and self._figure is not None:
            self.figures.append(self._figure)
            self._figure = None

    def handle_data(self, data):
        if self._skip:
            return
        for unit in self._open:
            unit[2].append(data)


def _grid(rows: list[list[tuple[str, str, int]]]) -> list[list[tuple[str, str]]]:
    """A table's rows as (tag, text) cells in their columns: a cell spanning rows (``rowspan``) is
    repeated in the rows below it, so that every cell stands under its own header."""
    carried: dict[int, list] = {}  # column -> [rows still to fill, (tag, text)]
    out = []
    for row in rows:
        cells, queue, col = [], list(row), 0
        while queue or any(c >= col for c in carried):
            if col in carried:
                left, cell = carried[col]
                cells.append(cell)
                carried[col][0] -= 1
                if carried[col][0] == 0:
                    del carried[col]
            elif queue:
                tag, text, span = queue.pop(0)
                cells.append((tag, text))
                if span > 1:
                    carried[col] = [span - 1, (tag, text)]
            else:
                break
            col += 1
        out.append(cells)
    return out


def _money(text: str) -> list[str]:
    """The £ amounts of ``text`` that are not a willingness-to-pay threshold."""
    return [m for m in MONEY.findall(text) if m.replace(" ", "") not in THRESHOLDS]


def _labelled(text: str) -> bool:
    return bool(HORIZON.search(text) and DISCOUNTING.search(text))


# --- the checks ---------------------------------------------------------------------------------------


def money_problems(html: str) -> list[str]:
    """Every money figure without its horizon and discounting: a table column whose cells hold £
    amounts while its header says neither, a header with £ amounts that says neither, and a figure
    whose title or caption holds £ amounts while neither says both. Unit prices
    (``<table class='prices'>``) are not sums over a horizon and are left out."""
    page = Page(html)
    problems = []
    for t in page.tables:
        if "prices" in t["class"].split() or not t["rows"]:
            continue
        header = [text for tag, text in t["rows"][0]] if all(tag == "th" for tag, _ in t["rows"][0]) else []
        for j, text in enumerate(header):
            if _money(text) and not _labelled(text):
                problems.append(f"table header {text!r}: a £ amount without its horizon and discounting")
        # a table with a column of years or horizons says each row's horizon there ("Year" 1, 2 ...;
        # "Horizon" 1 year, 2 years ...): its money columns need only say whether they are discounted
        by_row = any(h in ("Year", "Horizon") for h in header)
        for row in t["rows"][1 if header else 0:]:
            for j, (tag, text) in enumerate(row):
                if j == 0 or not _money(text):
                    continue
                head = header[j] if j < len(header) else ""
                if not (_labelled(head) or (by_row and DISCOUNTING.search(head))):
                    problems.append(f"column {head!r} holds {_money(text)[0]} but its header does not say its "
                                    "horizon and whether it is discounted")
    for f in page.figures:
        text = f"{f['alt']} {f['caption']}"
        if _money(text) and not _labelled(text):
            problems.append(f"figure {f['caption'][:40]!r}: {_money(text)[0]} in its title or caption, which do not "
                            "say the horizon and whether it is discounted")
    return sorted(set(problems))


def frontier_table(html: str) -> dict[str, str]:
    """The step-by-step table of the efficiency frontier: strategy label -> its "incremental cost
    per QALY" cell (the price of its step, or why it is ruled out)."""
    for t in Page(html).tables:
        header = [text for _, text in t["rows"][0]] if t["rows"] else []
        col = next((j for j, h in enumerate(header) if h.startswith("Incremental cost per QALY")), None)
        if col is not None:
            return {row[0][1]: row[col][1] for row in t["rows"][1:]}
    raise AssertionError("the report has no step-by-step frontier table (a header 'Incremental cost per QALY')")


def ruled_out(frontier: dict[str, str], wtp: float) -> set[str]:
    """The strategies the frontier table rules out at ``wtp`` GBP per QALY: dominated, extendedly
    dominated ("a mix of its neighbours"), or on the frontier with a step dearer than ``wtp``."""
    out = set()
    for label, what in frontier.items():
        price = re.match(r"[−-]?£([\d,]+) per extra QALY", what)
        if price:
            if float(price.group(1).replace(",", "")) > wtp:
                out.add(label)
        elif "dominated" in what or "mix of its neighbours" in what:
            out.add(label)
    return out


def cost_effective_at(frontier: dict[str, str], wtp: float) -> set[str]:
    """The strategies the frontier table finds cost-effective at ``wtp``: a step no dearer than it."""
    return {label for label, what in frontier.items()
            if (m := re.match(r"£([\d,]+) per extra QALY", what)) and float(m.group(1).replace(",", "")) <= wtp}


CLAIM = re.compile(r"(?<!most )cost-effective at £([\d,]+)", re.I)
COUNT = re.compile(r"(\d+) of (\d+) strategies are cost-effective", re.I)
NEGATION = re.compile(r"\b(?:not|no|none|never|nothing)\b", re.I)
EVERY = re.compile(r"\b(?:every|all) (?:follow-on )?strateg(?:y|ies)\b", re.I)


def cost_effective_problems(html: str) -> list[str]:
    """Every sentence that calls a strategy cost-effective at a threshold while the frontier table
    rules it out there. A sentence's strategies are those it names; else "every strategy" (all of
    the table's but the cheapest); else the first strategy its list item, paragraph or caption names
    (a verdict list item starts with its strategy). "N of M strategies are cost-effective at £X"
    must count what the table finds. Negated sentences ("not cost-effective", "No follow-on support
    is cost-effective") claim nothing."""
    frontier = frontier_table(html)
    labels = sorted(frontier, key=len, reverse=True)  # the longest first: "Online group, unmoderated" before "Online group"
    cheapest = next(iter(frontier))
    problems = []
    for unit in Page(html).units:
        # the strategy a unit starts with (the longest label at the same place: "Online group, unmoderated")
        first = min(((unit.find(lab), -len(lab), lab) for lab in labels if lab in unit), default=(0, 0, None))[2]
        for clause in re.split(r"(?<=[.;])\s+", unit):
            count = COUNT.search(clause)
            if count:
                wtp_text = re.search(r"£([\d,]+) per QALY", clause)
                wtp = float(wtp_text.group(1).replace(",", "")) if wtp_text else economics.WTP_THRESHOLDS_GBP[0]
                found = len(cost_effective_at(frontier, wtp))
                if int(count.group(1)) != found:
                    problems.append(f"{clause!r}: the frontier table finds {found} cost-effective at £{wtp:,.0f}")
            claim = CLAIM.search(clause)
            if not claim or NEGATION.search(clause[:claim.start()]):
                continue
            wtp = float(claim.group(1).replace(",", ""))
            named = [lab for lab in labels if lab in clause]
            if EVERY.search(clause):
                subjects = [lab for lab in frontier if lab != cheapest]
            elif named:
                subjects = named
            else:
                subjects = [first] if first else []
            for s in subjects:
                if s in ruled_out(frontier, wtp):
                    problems.append(f"{clause!r} calls {s!r} cost-effective at £{wtp:,.0f}, which the frontier table "
                                    f"rules out ({frontier[s]})")
    return sorted(set(problems))


def contents_problems(html: str) -> list[str]:
    """The contents list against the headings: each entry's number is its heading's number, every
    numbered heading is listed, and headings are numbered 1, 2, 3, ... in page order."""
    page = Page(html)
    numbers = {}
    problems = []
    for i, (sid, text) in enumerate(page.headings, start=1):
        m = re.match(r"(\d+)\.\s", text)
        numbers[sid] = int(m.group(1)) if m else None
        if numbers[sid] != i:
            problems.append(f"heading {text!r} (#{sid}) is the {i}th section but numbered {numbers[sid]}")
    for shown, href in page.contents:
        if href not in numbers:
            problems.append(f"contents entry {shown} links to #{href}, which is no section heading")
        elif numbers[href] != shown:
            problems.append(f"contents entry {shown} links to #{href}, numbered {numbers[href]} on the page")
    listed = {href for _, href in page.contents}
    problems += [f"section #{sid} is not in the contents list" for sid in numbers if sid not in listed]
    return problems


# --- the reports -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A tiny sweep of every strategy (2 replicates of 80 graduates over 56 weeks) and its report."""
    sweep_dir = sweep(tmp_path_factory.mktemp("consistency_sweep"), "experiment=compare_strategies", "replicates=2",
                      "n_graduates=80", "weeks=56")
    report.build(sweep_dir)
    return sweep_dir


@pytest.fixture(scope="module")
def tiny_psa(tmp_path_factory) -> Path:
    """A tiny PSA (8 draws of 60 graduates over 30 weeks, three strategies) and its report, without
    the value-of-information analysis (its section then says how to make it: still a section)."""
    sweep_dir = sweep(tmp_path_factory.mktemp("consistency_psa"), "experiment=psa", "replicates=8", "n_graduates=60",
                      "weeks=30", "strategy=course_only,peer_group,telephone")
    report.build(sweep_dir)
    return sweep_dir


def html_of(sweep_dir: Path) -> str:
    return (sweep_dir / "report" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("which", ["tiny", "tiny_psa"])
def test_every_money_figure_says_its_horizon_and_discounting(which, request):
    assert money_problems(html_of(request.getfixturevalue(which))) == []


@pytest.mark.parametrize("which", ["tiny", "tiny_psa"])
def test_cost_effective_means_what_the_frontier_table_says(which, request):
    html = html_of(request.getfixturevalue(which))
    assert frontier_table(html), "the frontier table lists the strategies"
    assert cost_effective_problems(html) == []


@pytest.mark.parametrize("which", ["tiny", "tiny_psa"])
def test_the_contents_list_numbers_are_the_headings_numbers(which, request):
    html = html_of(request.getfixturevalue(which))
    assert contents_problems(html) == []
    assert Page(html).contents, "the page has a contents list"


def test_the_checks_catch_what_they_are_for():
    """Each check finds the fault it is for in a page that has it (so a passing report is not a
    check that cannot fail)."""
    frontier = ("<table><tr><th>Strategy</th><th>Extra cost per graduate</th><th>Incremental cost per QALY</th></tr>"
                "<tr><td>Course only</td><td>£0</td><td>the cheapest option</td></tr>"
                "<tr><td>Online group</td><td>£2</td><td>ruled out: a mix of its neighbours would gain more</td></tr>"
                "<tr><td>Peer group</td><td>£50</td><td>£25,000 per extra QALY against Course only</td></tr></table>")
    assert any("Extra cost per graduate" in p for p in money_problems(frontier))
    labelled = frontier.replace("Extra cost per graduate", "Extra cost per graduate over 24 months, discounted")
    labelled = labelled.replace("Incremental cost per QALY</th>", "Incremental cost per QALY, over 24 months, "
                                "discounted</th>")
    assert money_problems(labelled) == []
    figure = "<figure><img alt='Peer group gives £128 per graduate'><figcaption>Each dot</figcaption></figure>"
    assert money_problems(figure) and not money_problems(figure.replace("Each dot", "over 24 months, discounted"))
    assert money_problems("<table class='prices'><tr><th>Item</th><th>Value</th></tr>"
                          "<tr><td>Call</td><td>£5</td></tr></table>") == []
    said = frontier + "<ul><li><b>Online group.</b> Keeps 2 more. Cost-effective at £20,000 per QALY.</li></ul>"
    assert any("'Online group'" in p for p in cost_effective_problems(said))
    assert cost_effective_problems(said.replace("Cost-effective at", "Not cost-effective at")) == []
    every = frontier + "<p>Every strategy is cost-effective at £20,000 per QALY; Peer group gives most.</p>"
    assert len(cost_effective_problems(every)) == 2  # online (a mix) and peer groups (£25,000 > £20,000)
    assert cost_effective_problems(frontier + "<p>Peer group: cost-effective at £30,000 per QALY.</p>") == []
    assert cost_effective_problems(frontier + "<p>At £30,000 per QALY, 2 of 2 strategies are cost-effective.</p>")
    nav = ("<nav><ol><li><a href='#s'>Summary</a></li><li><a href='#voi'>Evidence</a></li>"
           "<li><a href='#x'>Assumptions</a></li></ol></nav><h2 id='s'>1. Summary</h2>"
           "<h2 id='voi'>What evidence would change the answer</h2><h2 id='x'>8. Assumptions</h2>")
    assert len(contents_problems(nav)) >= 2
    assert contents_problems(report.number_sections(nav.replace("<nav><ol><li><a href='#s'>Summary</a></li><li>"
                                                                "<a href='#voi'>Evidence</a></li><li><a href='#x'>"
                                                                "Assumptions</a></li></ol></nav>",
                                                                report.CONTENTS))) == []


# --- numbering from one list -----------------------------------------------------------------------------


def test_sections_and_figures_are_numbered_in_page_order_from_the_headings():
    page = (f"{report.CONTENTS}<h2 id='summary'>Summary table</h2><p>see section {report.section_ref('assumptions')}"
            "</p><figure><figcaption><b>Figure .</b> a</figcaption></figure><h2 id='a0'>Who</h2>"
            "<h2 id=\"budget\">Budget impact</h2><h2 id='voi'>9. What evidence</h2>"
            "<figure><figcaption><b>Figure 8.</b> b</figcaption></figure><h2 id='assumptions'>Costs</h2>")
    out = report.number_sections(page)
    assert re.findall(r"<h2 id=['\"][^'\"]+['\"]>(\d+)\.", out) == ["1", "2", "3", "4", "5"]
    assert "see section 5" in out and "9." not in out
    assert re.findall(r"Figure (\d+)\.", out) == ["1", "2"]
    assert re.findall(r"<li value='(\d+)'><a href='#([^']+)'", out) == [
        ("1", "summary"), ("2", "a0"), ("3", "budget"), ("4", "voi"), ("5", "assumptions")]
    with pytest.raises(ValueError, match="no section with id 'nowhere'"):
        report.number_sections(page + report.section_ref("nowhere"))


# --- the frontier's verdicts --------------------------------------------------------------------------


def test_frontier_verdicts_follow_the_frontier_and_the_threshold():
    front = economics.efficiency_frontier(["course", "cheap", "mid", "dear", "worse"],
                                          [0.0, 10.0, 40.0, 200.0, 60.0], [0.0, 0.004, 0.006, 0.010, 0.003])
    v = report_data.frontier_verdicts(front, 20_000)
    # cheap: 2,500 per QALY; mid: 15,000 (a step under 20,000); dear: 40,000 (above); worse: dominated by mid
    assert v == {"course": report_data.REFERENCE, "cheap": report_data.COST_EFFECTIVE,
                 "mid": report_data.COST_EFFECTIVE, "dear": report_data.ABOVE_THRESHOLD,
                 "worse": report_data.DOMINATED}
    assert report_data.frontier_verdicts(front, 50_000)["dear"] == report_data.COST_EFFECTIVE
    with pytest.raises(ValueError, match="wtp_gbp_per_qaly"):
        report_data.frontier_verdicts(front, 0)


# --- the threshold-free headline and the threshold figure ---------------------------------------------


def test_the_report_leads_with_the_mean_difference_and_qalys(tiny):
    html = html_of(tiny)
    page = Page(html)
    summary = next(t for t in page.tables if "summary" in t["class"].split())
    header = [text for _, text in summary["rows"][0]]
    assert header[1].startswith("Mean difference in measured self-efficacy") and "(SD)" in header[1]
    assert header[2].startswith("Extra QALYs per graduate") and _labelled(header[2])
    brief = html[html.index("The answer in brief"):html.index("<nav>")]
    assert "Mean difference in measured self-efficacy" in brief
    if "Fund:" in brief:
        assert brief.index("Mean difference in measured self-efficacy") < brief.index("Fund:")
        fund = brief[brief.index("Fund:"):]
        fund = fund[:fund.index("</li>")]
        assert fund.index(" SD") < fund.index("QALYs per graduate") < fund.index("self-managing at")
    # one QALY unit, per graduate, in what build.py writes (the budget-impact and value-of-information
    # sections, written by their own modules, are left out here)
    own = re.sub(r"<h2 id=['\"](?:budget|voi)['\"]>.*?(?=<h2 id=)", "", html, flags=re.S)
    assert "id=\"assumptions\"" in own and not re.search(r"QALYs per 1,000|per 1,000 graduates over", own)
    assert "cheapest first" not in html  # ranked along the frontier, not by a ratio


def test_the_mean_difference_is_the_latent_difference_on_the_measured_scale(tiny):
    """The SMD of an arm is its paired latent gain times the square root of the reliability each run used."""
    data = report_data.load(tiny)
    s = report_data.arm_summary(data).set_index("strategy")
    h = data.headline_week
    runs = data.runs[data.runs["strategy"] == "offer_all"]
    expected = (runs[f"delta_mean_gain_sd_w{h}"] * runs["reliability"] ** 0.5).mean()
    assert s.loc["offer_all", "smd_h"] == pytest.approx(expected)
    assert 0 < s.loc["offer_all", "smd_h"] < s.loc["offer_all", f"dgain_w{h}"]  # reliability below 1 shrinks it
    assert s.loc["course_only", "smd_h"] == 0
    assert s.loc["no_course", "smd_h"] < 0  # the course itself raises measured self-efficacy


def test_responders_by_threshold_csv_moves_with_the_threshold(tiny):
    table = pd.read_csv(tiny / "report" / "responders_by_threshold.csv")
    assert sorted(table["threshold_sd"].unique()) == list(CURVE_THRESHOLDS_SD)
    data = report_data.load(tiny)
    assert len(table) == len(CURVE_THRESHOLDS_SD) * len(data.arms)
    # a higher threshold counts fewer responders, in every arm
    for _, g in table.groupby("arm"):
        shares = g.sort_values("threshold_sd")["responders_per_100"].to_numpy()
        assert (shares[1:] <= shares[:-1] + 1e-9).all()
    # the default threshold's column is the report's headline count
    s = report_data.arm_summary(data).set_index("arm")
    at = table[table["threshold_sd"] == 0.5].set_index("arm")
    assert at["extra_per_100"].to_dict() == pytest.approx(s["extra_per_100_h"].to_dict())
    comp = table[table["strategy"] == "course_only"]
    assert (comp["extra_per_100"] == 0).all() and comp["rank"].isna().all()
    follow = table[table["follow_on"]]
    assert set(follow.groupby("threshold_sd")["rank"].min()) == {1}
    html = html_of(tiny)
    assert 'id="fig-a_thresholds"' in html and (tiny / "report" / "figures" / "a_thresholds.svg").is_file()


def test_every_money_axis_of_the_figures_says_its_horizon_and_discounting(tiny):
    """The axis labels and panel titles of the report's figures: any that shows pounds (but the
    willingness to pay of the acceptability curve, a price per QALY) says its horizon and whether it
    is discounted."""
    import matplotlib.pyplot as plt

    from experiments.report import figures as rf

    data = report_data.load(tiny)
    summary = report_data.arm_summary(data)
    (pop,) = data.populations()
    figs = [rf.costs(data, summary, pop), rf.ce_plane(data, summary, pop),
            rf.thresholds(data, summary, report_data.responders_by_threshold(data, summary), pop)]
    unlabelled = []
    try:
        for f in figs:
            for ax in f.fig.axes:
                for text in (ax.get_xlabel(), ax.get_ylabel(), ax.get_title(loc="left")):
                    if "£" in text and not text.startswith("Willingness to pay") and not _labelled(text):
                        unlabelled.append((f.name, text))
            assert not _money(f.title) or _labelled(f"{f.title} {f.how_to_read}"), f.title
    finally:
        for f in figs:
            plt.close(f.fig)
    assert unlabelled == []


def test_the_brief_lists_the_strategies_along_the_frontier(tiny):
    """The brief's ranking follows the frontier table (in order of cost, ruled-out strategies apart),
    never a cost-per-responder ratio."""
    html = html_of(tiny)
    frontier = frontier_table(html)
    item = next(u for u in Page(html).units if u.startswith("Along the efficiency frontier"))
    steps, _, rest = item.partition("Ruled out")
    on = [lab for lab in frontier if lab not in ruled_out(frontier, float("inf"))]
    assert sorted(on, key=steps.find) == on and all(lab in steps for lab in on)
    assert all(lab in rest for lab in ruled_out(frontier, float("inf")))
