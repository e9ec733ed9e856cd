"""Issue 11 on a tablet, in headless Chromium at 1024×768 and 820×1180: the sidebar starts
collapsed, Start/Stop are on the screen without scrolling, every control is a 44 px target,
decision tables are not cut off, every wizard step has Back, and axe-core (npm, pinned in
tests/node) finds no serious or critical WCAG 2.2 AA violation on any page."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assessment.program import SAFETY_SCREEN_KEYS
from records import services
from records.db import open_database

from conftest import ADMIN, ARTIFACTS, CLINICIAN, choose, nav, radio, sign_in, wait_idle

pytestmark = pytest.mark.e2e

VIEWPORTS = {"landscape": (1024, 768), "portrait": (820, 1180)}
AXE_JS = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: WCAG 2.5.5 target size (CSS px).
TARGET_PX = 44

#: Violations inside Streamlit's own markup that the app cannot change: (rule id, the exact
#: elements). Only these nodes of only these rules are dropped; every other node is reported.
STREAMLIT_MARKUP = {
    # The sidebar navigation of st.navigation renders <ul data-testid="stSidebarNavItems"> whose
    # children are a <div> per section (holding a <header> and the <li> items), so the list holds
    # a non-<li> child ("list") and each <li>'s parent is that <div>, not the list ("listitem").
    "list": 'ul[data-testid="stSidebarNavItems"]',
    "listitem": 'ul[data-testid="stSidebarNavItems"] > div > li',
}

#: Serious and critical violations, without the exact Streamlit nodes above.
RUN_AXE = """async ([tags, known]) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, elementRef: true});
  const out = [];
  for (const v of result.violations) {
    if (!['serious', 'critical'].includes(v.impact)) continue;
    const nodes = v.nodes.filter(n => !(known[v.id] && n.element && n.element.matches(known[v.id])));
    if (nodes.length) out.push({rule: v.id, impact: v.impact, help: v.help,
                                nodes: nodes.map(n => n.target.join(' ') + ' :: ' + n.html.slice(0, 160))});
  }
  return out;
}"""

#: Every control a finger taps in the main area (component shadow roots included), measured as
#: its tap target: a radio's or checkbox's label, a select box's or text box's field. Links inside running
#: text are exempt (WCAG 2.5.8 "inline").
SMALL_TARGETS = """(minimum) => {
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document.querySelector('[data-testid="stMain"]'));
  const kinds = 'button, a[href], input[type=radio], input[type=checkbox], [role=combobox], [role=tab], summary, '
              + 'input[type=text], input[type=password], input[type=number], textarea';
  const small = [];
  for (const el of all) {
    if (!el.matches(kinds) || el.matches('p a, li a')) continue;
    let target = el;
    if (el.matches('input[type=radio], input[type=checkbox]')) target = el.closest('label') || el;
    else if (el.matches('[role=combobox]')) target = el.closest('[role=group]') || el;
    const r = target.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;  // not shown
    if (r.width < minimum || r.height < minimum) {
      small.push(`${el.tagName} "${(el.getAttribute('aria-label') || el.innerText || target.innerText || '').trim().slice(0, 50)}"`
                 + ` ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""

#: Table cells (and tables) whose text is cut off or scrolled out of sight.
CLIPPED_CELLS = """() => {
  const out = [];
  for (const table of document.querySelectorAll('[data-testid="stMain"] [data-testid="stTable"]')) {
    for (const el of [table, ...table.querySelectorAll('div, th, td')]) {
      if (el.clientWidth && el.scrollWidth > el.clientWidth + 1) {
        out.push(`${el.tagName} "${el.innerText.trim().slice(0, 40)}" ${el.scrollWidth} > ${el.clientWidth}`);
      }
    }
  }
  return out;
}"""


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(RUN_AXE, [AXE_TAGS, STREAMLIT_MARKUP])


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (box is not None and box["x"] >= 0 and box["y"] >= 0
            and box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"])


def shot(page, name: str) -> None:
    """What the tablet's screen shows (no scrolling), kept as a test artifact."""
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _seed(db_url: str) -> None:
    """A patient to assess, and one with two final assessments (Result, History)."""
    from models import load_default_model, risk_function

    clear = {k: "no" for k in SAFETY_SCREEN_KEYS}
    risk_fn = risk_function(load_default_model())
    db = open_database(db_url)
    try:
        services.add_patient(db, mrn="TAB-1", given_name="Tamsin", family_name="Abernathy-Longfellow",
                             birth_date="1950-01-01", sex="female", actor=ADMIN)
        services.add_patient(db, mrn="RES-1", given_name="Rosalind", family_name="Featherstonehaugh",
                             birth_date="1944-03-02", sex="female", actor=ADMIN)
        for on, trials, falls in ((date(2026, 6, 1), [5.6, 5.8], 0), (date(2026, 11, 2), [4.6, 4.9], 1)):
            services.record_assessment(db, "RES-1", {"trials": trials, "prior_falls": falls, "walking_aid": "no",
                                                     "safety_screen": clear, "assessed_on": on},
                                       risk_fn=risk_fn, actor=ADMIN)
    finally:
        db.dispose()


def _select(page, mrn: str) -> None:
    """Select the patient ``mrn`` (from the patient header's "Change patient" when one is already selected)."""
    change = page.get_by_role("button", name="Change patient")
    if change.is_visible():
        change.click()
    choose(page, "Patient", mrn)
    page.locator(".st-key-patient_header").filter(has_text=f"MRN {mrn} ·").wait_for()
    wait_idle(page)


def _to_safety_screen(page) -> None:
    nav(page, "New assessment")
    page.get_by_role("heading", name="New assessment").wait_for()
    wait_idle(page)
    _select(page, "TAB-1")
    if page.get_by_role("button", name="Change patient").is_visible():
        page.keyboard.press("Escape")  # close the header's popover
    begin = page.get_by_role("button", name="Begin a new assessment")
    begin.click()
    try:
        page.get_by_role("heading", name="Safety screen").wait_for(timeout=15_000)
    except Exception:  # the lost first tap seen under load (see conftest.pre_test_steps): tap again, say so
        print("_to_safety_screen: 'Begin a new assessment' tapped a second time")
        begin.click()
        page.get_by_role("heading", name="Safety screen").wait_for()
    wait_idle(page)


def _yes_no_questions() -> tuple[list[str], list[str]]:
    """The safety screen's go/no-go questions (answered Yes to test today) and screen questions."""
    from assessment.program import SAFETY_SCREEN_QUESTIONS
    from ui.flow import PRE_TEST_KEYS
    from ui.wizard import GO_QUESTIONS

    return list(GO_QUESTIONS.values()), [SAFETY_SCREEN_QUESTIONS[k] for k in PRE_TEST_KEYS]


def _answer_safety_screen(page) -> None:
    go, screen = _yes_no_questions()
    for question in go:
        radio(page, question, "Yes")
    for question in screen:
        radio(page, question, "No")
    radio(page, "Falls in the past 12 months", "None")


def _setup_and_script(page) -> None:
    from assessment.protocol import SETUP_CHECKLIST

    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Set-up checklist").wait_for()
    for item in SETUP_CHECKLIST:
        page.get_by_text(item.text, exact=True).click()
        wait_idle(page)
    page.get_by_role("button", name="All done — continue").click()
    page.get_by_role("heading", name="Read this to the patient").wait_for()
    page.get_by_role("button", name="I have read the script").click()
    page.get_by_role("heading", name="Practice walk (not timed)").wait_for()
    wait_idle(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_sidebar_collapsed_and_start_stop_on_screen(page, app_server, accounts, viewport):
    """Below 1200 px the sidebar starts collapsed (and opens with its toggle); on the practice and
    timed steps the controls are on the screen on arrival, with no scrolling."""
    width, height = VIEWPORTS[viewport]
    _seed(app_server["db_url"])
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, app_server["url"], accounts["clinician"])
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.bounding_box() is None or sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0, \
        sidebar.bounding_box()
    page.get_by_test_id("stExpandSidebarButton").click()  # still reachable
    history = page.get_by_role("link", name="History", exact=True)
    for _ in range(20):  # the sidebar slides in
        if in_viewport(page, history):
            break
        page.wait_for_timeout(250)
    assert in_viewport(page, history), history.bounding_box()
    page.get_by_test_id("stSidebarCollapseButton").click()
    page.get_by_test_id("stExpandSidebarButton").wait_for()

    _to_safety_screen(page)
    _answer_safety_screen(page)
    shot(page, f"issue11-tablet-safety-{viewport}")
    _setup_and_script(page)
    for control in (page.get_by_role("radiogroup", name="Practice walk"),
                    page.get_by_role("button", name="Start the timed walks"),
                    page.get_by_role("button", name="End test…")):
        assert in_viewport(page, control), (viewport, "practice", control, control.bounding_box())
    shot(page, f"issue11-tablet-practice-{viewport}")
    radio(page, "Practice walk", "Done")
    wait_idle(page)
    page.get_by_role("button", name="Start the timed walks").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    wait_idle(page)
    start, stop = page.get_by_test_id("sw-start"), page.get_by_test_id("sw-stop")
    start.wait_for()
    for control in (start, stop):
        assert in_viewport(page, control), (viewport, "timed", control.bounding_box())
    shot(page, f"issue11-tablet-timed-{viewport}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_page_is_axe_clean_touch_sized_and_not_cut_off(page, app_server, accounts, viewport):
    """Each page (as the administrator, who sees them all): no serious or critical axe-core
    WCAG 2.2 AA violation, every tap target at least 44 px, no decision table cut off."""
    width, height = VIEWPORTS[viewport]
    _seed(app_server["db_url"])
    page.set_viewport_size({"width": width, "height": height})
    found: dict[str, list] = {}

    def check(name: str, *, tables: bool = False) -> None:
        wait_idle(page)
        page.wait_for_timeout(300)
        problems = [f"axe {v['rule']} ({v['impact']}: {v['help']}): {v['nodes']}" for v in axe_violations(page)]
        problems += [f"target under {TARGET_PX} px: {t}" for t in page.evaluate(SMALL_TARGETS, TARGET_PX)]
        if tables:
            assert page.get_by_test_id("stTable").count(), name
            problems += [f"cut off: {c}" for c in page.evaluate(CLIPPED_CELLS)]
        if problems:
            found[name] = problems

    page.goto(app_server["url"])
    page.get_by_label("Username").wait_for()
    check("sign-in")
    sign_in(page, app_server["url"], ADMIN)
    page.get_by_label("Search by name or MRN").fill("RES-1")
    page.keyboard.press("Enter")
    page.get_by_test_id("stTable").get_by_text("Featherstonehaugh, Rosalind").wait_for()
    check("patients", tables=True)
    page.get_by_label("Search by name or MRN").fill("")
    page.keyboard.press("Enter")
    wait_idle(page)
    shot(page, f"issue11-tablet-patients-{viewport}")
    for link, heading in (("Result", "Result"), ("History", "History")):
        nav(page, link)
        page.get_by_role("heading", name=heading).first.wait_for()
        wait_idle(page)
        if link == "Result":  # the one selection: History opens on the same patient
            _select(page, "RES-1")
        page.locator(".st-key-patient_header").filter(has_text="MRN RES-1 ·").wait_for()
        page.get_by_test_id("stTable").first.wait_for()
        check(link.lower(), tables=True)
        page.get_by_test_id("stVegaLiteChart").first.wait_for()  # the percentile strip / the trend
        shot(page, f"issue11-tablet-{link.lower()}-{viewport}")
    for link, heading in (("Clinic", "Clinic"), ("Model", "Model"), ("Evidence", "Evidence"), ("Data", None),
                          ("Admin", "Admin"), ("Audit", "Audit")):
        nav(page, link)
        if heading:
            page.get_by_role("heading", name=heading).first.wait_for()
        page.wait_for_timeout(500)
        check(link.lower())
    # the wizard, step by step
    _to_safety_screen(page)
    check("wizard: safety screen")
    _answer_safety_screen(page)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Set-up checklist").wait_for()
    check("wizard: set-up checklist")
    page.get_by_role("button", name="Back", exact=True).click()
    page.get_by_role("heading", name="Safety screen").wait_for()
    _answer_safety_screen(page)
    _setup_and_script(page)
    check("wizard: practice walk")
    radio(page, "Practice walk", "Done")
    wait_idle(page)
    page.get_by_role("button", name="Start the timed walks").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    check("wizard: timed walks")
    for seconds in ("2.50", "2.70"):
        if not page.get_by_label("Seconds").is_visible():
            page.get_by_text("Type a time measured with another stopwatch").click()
        page.get_by_label("Seconds").fill(seconds)
        page.get_by_role("button", name="Save typed time").click()
        wait_idle(page)
    page.get_by_role("button", name="Continue to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    check("wizard: observations")
    page.get_by_role("button", name="Continue to STEADI items").click()
    page.get_by_text("STEADI screening items").wait_for()
    check("wizard: STEADI")
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("heading", name="Review and finalize").wait_for()
    check("wizard: review")
    assert not found, "\n".join(f"{name}: {p}" for name, problems in found.items() for p in problems)


def test_back_on_every_step_and_one_yes_no_order(page, app_server, accounts):
    """Every wizard step after the first has Back (to the step before it); the safety screen's
    yes/no questions all offer Yes first."""
    _seed(app_server["db_url"])
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, app_server["url"], CLINICIAN)
    _to_safety_screen(page)
    go, screen = _yes_no_questions()
    orders = {q: [o.strip() for o in page.get_by_role("radiogroup", name=q).locator("label").all_inner_texts()]
              for q in go + screen}
    assert len(orders) == 9, orders  # 3 go/no-go questions and the 6 screen questions
    assert all(o == ["Yes", "No"] for o in orders.values()), orders

    back = page.get_by_role("button", name="Back", exact=True)
    back.click()  # safety screen → patient
    page.get_by_role("button", name="Begin a new assessment").wait_for()
    page.get_by_role("button", name="Begin a new assessment").click()
    page.get_by_role("heading", name="Safety screen").wait_for()
    _answer_safety_screen(page)
    _setup_and_script(page)
    back.click()  # practice → script
    page.get_by_role("heading", name="Read this to the patient").wait_for()
    back.click()  # script → set-up checklist
    page.get_by_role("heading", name="Set-up checklist").wait_for()
    back.click()  # set-up checklist → safety screen
    page.get_by_role("heading", name="Safety screen").wait_for()
    _answer_safety_screen(page)
    _setup_and_script(page)
    radio(page, "Practice walk", "Done")
    wait_idle(page)
    page.get_by_role("button", name="Start the timed walks").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    wait_idle(page)
    back.click()  # timed walks → practice (the draft keeps what was recorded)
    page.get_by_text("The practice walk is recorded as done").wait_for()
    page.get_by_role("button", name="Back to the timed walks").click()
    page.get_by_text("Timed walk 1 of 2").wait_for()
    if not page.get_by_label("Seconds").is_visible():
        page.get_by_text("Type a time measured with another stopwatch").click()
    page.get_by_label("Seconds").fill("3.10")
    page.get_by_role("button", name="Save typed time").click()
    wait_idle(page)
    page.get_by_role("button", name="Continue to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    page.get_by_role("button", name="Back to the timed walks").click()
    page.get_by_text("Timed walk 2 of 2").wait_for()
    page.get_by_role("button", name="Continue to the observations").click()
    page.get_by_role("button", name="Continue to STEADI items").click()
    page.get_by_role("button", name="Back to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    page.get_by_role("button", name="Continue to STEADI items").click()
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_role("heading", name="Review and finalize").wait_for()
    page.get_by_role("button", name="Back to the observations").click()
    page.get_by_text("What happened on each walk").wait_for()
    db = open_database(app_server["db_url"])
    try:
        (draft,) = services.open_drafts(db, "TAB-1")
        assert [t.seconds for t in draft.trials] == [pytest.approx(3.10)] and draft.practice_walk_done
    finally:
        db.dispose()
