"""The shipped models drawn by the pages' own bpmn-js viewer: every flow node and sequence flow of each model is on
the canvas, and a picture of the whole diagram is saved for docs/sales-process.md.

Pictures land in tests/e2e/artifacts/; with VORONKA_DOC_IMAGES=1 they also replace docs/img/<key>.png (run
`VORONKA_DOC_IMAGES=1 pytest tests/e2e/test_model_pictures.py` after changing a model's layout).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.ui_support import BPMN_DIR, PASSWORD

pytestmark = pytest.mark.e2e

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DRAWN = ("startEvent", "endEvent", "userTask", "serviceTask", "callActivity", "exclusiveGateway",
         "eventBasedGateway", "intermediateCatchEvent", "boundaryEvent", "sequenceFlow", "lane", "participant")
MARGIN = 40

DI = "{http://www.omg.org/spec/DD/20100524/DC}Bounds", "{http://www.omg.org/spec/DD/20100524/DI}waypoint"


def parse(path: Path) -> Any:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def diagram_size(path: Path) -> tuple[int, int]:
    """Width and height of the model's layout (its shapes' bounds and edges' waypoints)."""
    xs: list[float] = []
    ys: list[float] = []
    for el in parse(path).iter(*DI):
        x, y = float(el.get("x")), float(el.get("y"))
        xs += [x, x + float(el.get("width", 0))]
        ys += [y, y + float(el.get("height", 0))]
    return round(max(xs) - min(xs)), round(max(ys) - min(ys))


def element_ids(path: Path) -> set[str]:
    tree = parse(path)
    return {el.get("id") for tag in DRAWN for el in tree.iter(f"{BPMN}{tag}")}


def sign_in_designer(browser: Any, base_url: str) -> Any:
    context = browser.new_context(base_url=base_url, locale="ru-RU", viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/ui/login")
    page.get_by_label("Имя пользователя").fill("designer")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/ui/inbox"))
    return page


@pytest.mark.parametrize("key", ["sales_deal", "vip_service"])
def test_each_shipped_model_is_drawn_whole_by_the_pages_viewer(browser: Any, sales_server: Any, artifacts: Path,
                                                              key: str) -> None:
    page = sign_in_designer(browser, sales_server.url)
    # The page's canvas is 420 pixels high; give it the diagram's own size (plus a margin) before the viewer
    # fits the diagram into it, so the picture is the whole diagram at 1:1.
    width, height = diagram_size(BPMN_DIR / f"{key}.bpmn")
    canvas_css = (f"\nmain {{ max-width: none; }} .diagram-controls {{ display: none; }} "
                  f".diagram-canvas {{ width: {width + 2 * MARGIN}px; height: {height + 2 * MARGIN}px; }}\n")

    def wider_canvas(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text() + canvas_css)

    page.route("**/ui/static/css/app.css", wider_canvas)
    page.goto(f"/ui/models/{key}")
    page.locator("figure[data-state='ready']").wait_for()

    drawn = set(page.eval_on_selector_all(".diagram-canvas [data-element-id]",
                                          "nodes => nodes.map(n => n.getAttribute('data-element-id'))"))
    expected = element_ids(BPMN_DIR / f"{key}.bpmn")
    assert expected - drawn == set(), "elements without a shape or edge on the canvas"

    canvas = page.locator(".diagram-canvas")
    box = canvas.bounding_box()
    assert box is not None and round(box["width"]) == width + 2 * MARGIN
    # Fitted at about 1:1: the viewer's viewport is scaled by neither much more nor much less than 1.
    scale = page.eval_on_selector(".diagram-canvas svg .viewport", "g => g.getCTM().a")
    assert 0.8 < scale <= 1.2, scale
    picture = artifacts / f"{key}.png"
    canvas.screenshot(path=str(picture))
    if os.environ.get("VORONKA_DOC_IMAGES") == "1":
        shutil.copyfile(picture, DOC_IMAGES / f"{key}.png")
