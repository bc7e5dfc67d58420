"""The decision-tree widget in a real browser: every path, reloads, keyboard, Back, no-JS, escaping, axe."""

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from axe_playwright_python.sync_playwright import Axe

from macros.decision_tree import all_paths, load_tree, site_url_of
from macros.decision_tree_widget import anchor, render_widget
from macros.walker import WALKER_PATH
from script_errors import errors_of, watch

PAGE = "software/installing/python/"
WIDGET = "[data-dtree-component]"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> & </script>"


@pytest.fixture(scope="module")
def tree():
    return load_tree()


@pytest.fixture(scope="module")
def paths(tree):
    return all_paths(tree)


def shown(page, base_url, site_url):
    """What the widget shows now: the question asked, or the recommendation and where it links."""
    widget = page.locator(WIDGET)
    legend = widget.locator(".dtree__app legend")
    if legend.count():
        return {"question": legend.inner_text(),
                "answers": widget.locator(".dtree__app .dtree__choice").all_inner_texts()}
    result = widget.locator(".dtree__app .dtree__result")
    href = result.locator(".dtree__more a").evaluate("a => a.href")
    return {"title": result.locator(".dtree__title").inner_text(),
            "url": site_url + href.removeprefix(base_url),
            "id": unquote(page.url.split("#dtree=", 1)[1].rsplit("/", 1)[-1])}


def answer(page, label):
    """Choose an answer by its accessible name, as a user of assistive technology would."""
    # A script error would leave the button missing: say so now, not after the click's time-out.
    errors_of(page).fail_if_any(f"before answering {label!r}")
    page.locator(WIDGET).get_by_role("button", name=label, exact=True).click()


@pytest.fixture(scope="module")
def walk(browser, base_url, paths):
    """Walk every path by the answers' names; record what was shown, before and after a reload."""
    context = browser.new_context()
    page = watch(context.new_page())
    site_url = site_url_of()
    seen, offered = [], {}
    for path in paths:
        page.goto(base_url + PAGE)
        steps = []
        for step in path["answers"]:
            now = shown(page, base_url, site_url)
            offered[now["question"]] = now["answers"]
            steps.append({"question": now["question"], "answer": step["answer"]})
            answer(page, step["answer"])
        result = shown(page, base_url, site_url)
        page.reload()
        seen.append({"answers": steps, "recommendation": result,
                     "after_reload": shown(page, base_url, site_url)})
    context.close()
    return {"paths": seen, "offered": offered}


def as_paths(records):
    """Walk records in the all_paths() format."""
    return [{"answers": r["answers"], "recommendation": r["recommendation"]} for r in records]


def test_every_path_shows_its_recommendation(walk, paths):
    assert as_paths(walk["paths"]) == paths


def test_reload_shows_the_same_recommendation(walk):
    for record in walk["paths"]:
        assert record["after_reload"] == record["recommendation"]


def test_widget_offers_exactly_the_answers_of_the_tree(walk, paths):
    # Guards against the widget showing an answer that no path in the data has.
    expected = {}
    for path in paths:
        for step in path["answers"]:
            expected.setdefault(step["question"], []).append(step["answer"])
    assert {q: sorted(set(a)) for q, a in expected.items()} == {q: sorted(a) for q, a in walk["offered"].items()}


def test_terminal_walker_paths_match_the_widget(walk, site_dir):
    walker = Path(site_dir) / WALKER_PATH
    result = subprocess.run([sys.executable, str(walker), "--paths"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == as_paths(walk["paths"])


def test_result_is_in_a_live_region(page, base_url, paths):
    page.goto(base_url + PAGE)
    live = page.locator(f"{WIDGET} [aria-live]")
    assert live.get_attribute("aria-live") == "polite"
    # Questions take the focus instead, so they are not read out twice.
    assert live.inner_text().strip() == ""
    for step in paths[0]["answers"]:
        answer(page, step["answer"])
    assert paths[0]["recommendation"]["title"] in live.inner_text()


def test_one_path_by_keyboard_only(page, base_url, paths):
    path = max(paths, key=lambda p: len(p["answers"]))
    page.goto(base_url + PAGE)
    for _ in range(400):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.dtree__choice')"):
            break
    else:
        pytest.fail("Tab never reached an answer of the widget")
    for number, step in enumerate(path["answers"]):
        for _ in range(20):
            if page.evaluate("document.activeElement.textContent") == step["answer"]:
                break
            page.keyboard.press("Tab")
        else:
            pytest.fail(f"Tab never reached the answer {step['answer']!r}")
        page.keyboard.press("Enter" if number % 2 else "Space")
    assert page.evaluate("document.activeElement.matches('.dtree__title')")
    assert page.evaluate("document.activeElement.textContent") == path["recommendation"]["title"]
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Back":
            break
    page.keyboard.press("Enter")
    assert page.locator(f"{WIDGET} legend").inner_text() == path["answers"][-1]["question"]


def test_back_start_over_and_browser_history(page, base_url, paths):
    path = max(paths, key=lambda p: len(p["answers"]))
    assert len(path["answers"]) >= 2
    page.goto(base_url + PAGE)
    widget = page.locator(WIDGET)
    assert widget.get_by_role("button", name="Back").count() == 0
    for step in path["answers"]:
        answer(page, step["answer"])
    hash_at_end = page.url.split("#", 1)[1]
    widget.get_by_role("button", name="Back").click()
    assert widget.locator("legend").inner_text() == path["answers"][-1]["question"]
    assert page.url.split("#", 1)[1] == hash_at_end.rsplit("/", 1)[0]
    widget.get_by_role("button", name="Back").click()
    assert widget.locator("legend").inner_text() == path["answers"][-2]["question"]
    page.go_back()
    assert widget.locator("legend").inner_text() == path["answers"][-1]["question"]
    widget.get_by_role("button", name="Start over").click()
    assert widget.locator("legend").inner_text() == path["answers"][0]["question"]
    assert "#" not in page.url
    assert widget.locator(".dtree__steps li").count() == 0


def test_a_heading_anchor_keeps_the_path_shown(page, base_url, paths):
    path = paths[0]
    page.goto(base_url + PAGE)
    for step in path["answers"]:
        answer(page, step["answer"])
    headerlink = page.locator(".md-content h2 a.headerlink").first
    headerlink.click()
    assert "#dtree" not in page.url
    title = page.locator(f"{WIDGET} .dtree__app .dtree__title")
    assert title.inner_text() == path["recommendation"]["title"]
    page.go_back()
    assert title.inner_text() == path["recommendation"]["title"]


def test_a_broken_hash_is_cut_at_the_first_wrong_step(page, base_url, tree, paths):
    path = max(paths, key=lambda p: len(p["answers"]))
    root = tree["nodes"][tree["root"]]
    first = next(a["next"] for a in root["answers"] if a["label"] == path["answers"][0]["answer"])
    page.goto(f"{base_url}{PAGE}#dtree={first}/no-such-node/{path['recommendation']['id']}")
    assert page.locator(f"{WIDGET} legend").inner_text() == path["answers"][1]["question"]
    page.goto(f"{base_url}{PAGE}#dtree=%E0%A4%A")
    assert page.locator(f"{WIDGET} legend").inner_text() == path["answers"][0]["question"]


def test_a_no_javascript_anchor_opens_that_node(page, base_url, paths):
    path = max(paths, key=lambda p: len(p["answers"]))
    page.goto(f"{base_url}{PAGE}#{anchor(path['recommendation']['id'])}")
    assert page.locator(f"{WIDGET} .dtree__app .dtree__title").inner_text() == path["recommendation"]["title"]


def test_without_javascript_every_recommendation_is_on_the_page(browser, base_url, tree):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + PAGE)
    leaves = {i: n["recommendation"] for i, n in tree["nodes"].items() if "recommendation" in n}
    for node_id, leaf in leaves.items():
        section = page.locator(f"#{anchor(node_id)}")
        assert section.is_visible()
        text = section.inner_text()
        for piece in [leaf["title"], leaf["when"], leaf["why"], *leaf.get("commands", [])]:
            assert piece in text
    # Answers are links: following the first one lands on its target's section.
    first = tree["nodes"][tree["root"]]["answers"][0]
    page.locator(f"#{anchor(tree['root'])}").get_by_role("link", name=first["label"], exact=True).click()
    assert page.url.endswith("#" + anchor(first["next"]))
    context.close()


def test_strings_from_the_data_stay_text_in_the_script(page, base_url, tree):
    hostile_tree = {"root": "q", "nodes": {
        "q": {"id": "q", "question": "Q " + HOSTILE, "help": "H " + HOSTILE,
              "answers": [{"label": "A " + HOSTILE, "next": "leaf"}, {"label": "Other", "next": "leaf"}]},
        "leaf": {"id": "leaf", "recommendation": {
            "kind": "recommended", "title": "T " + HOSTILE, "when": "W " + HOSTILE, "why": "Y " + HOSTILE,
            "link": "index.md", "url": "", "commands": ["echo '" + HOSTILE + "'"]}}}}
    real = render_widget(tree, PAGE)
    fake = render_widget(hostile_tree, PAGE)

    def swap(route):
        body = route.fetch().text()
        assert body.count(real) == 1
        route.fulfill(body=body.replace(real, fake), content_type="text/html")

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.route(base_url + PAGE, swap)
    page.goto(base_url + PAGE)
    widget = page.locator(WIDGET)
    assert widget.locator("legend").inner_text() == "Q " + HOSTILE
    answer(page, "A " + HOSTILE)
    result = widget.locator(".dtree__app")
    for text in ("T ", "W ", "Y ", "echo '"):
        assert text + HOSTILE in result.inner_text()
    assert widget.locator(".dtree__app script, .dtree__app img").count() == 0
    assert dialogs == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_problem_in_the_widget(browser, base_url, paths, scheme):
    context = browser.new_context(color_scheme=scheme)
    page = watch(context.new_page())
    page.goto(base_url + PAGE)
    # Scoped to the widget: the rest of the page is checked by the page-wide a11y tests.
    problems = axe_problems(page)
    for step in paths[0]["answers"]:
        answer(page, step["answer"])
    problems += axe_problems(page)
    context.close()
    assert problems == []


def axe_problems(page):
    results = Axe().run(page, context=WIDGET)
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_built_page_holds_the_widget_unmangled_with_its_assets(site_dir, tree):
    built = (Path(site_dir) / PAGE / "index.html").read_text(encoding="utf-8")
    assert built.count(render_widget(tree, PAGE)) == 1
    script = "assets/javascripts/decision-tree.js"
    assert (Path(site_dir) / script).is_file()
    assert f"../../../{script}" in built
    # The style is inlined by overrides/main.html (one request less per page).
    style = (Path(__file__).resolve().parents[2] / "overrides/assets/stylesheets/decision-tree.css").read_text()
    assert style.strip() in built


def test_mounts_after_instant_navigation_and_back(page, base_url, paths):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base_url)
    # Material's instant navigation swaps the content in without reloading the scripts.
    page.locator(f'.md-content a[href$="{PAGE}"]').first.click()
    page.wait_for_url(base_url + PAGE)
    path = next(p for p in paths if not p["recommendation"]["url"].endswith(PAGE))
    for step in path["answers"]:
        answer(page, step["answer"])
    hash_ = page.url.split("#", 1)[1]
    page.locator(f"{WIDGET} .dtree__app .dtree__more a").click()
    page.wait_for_url(lambda url: PAGE not in url)
    page.go_back()
    page.wait_for_url(f"{base_url}{PAGE}#{hash_}")
    widget = page.locator(WIDGET)
    assert widget.locator(".dtree__app .dtree__title").inner_text() == path["recommendation"]["title"]
    assert widget.locator(".dtree__app").count() == 1
    assert errors == []
