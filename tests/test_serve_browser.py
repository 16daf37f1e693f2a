"""A real browser draws on the page: Debian's chromium + chromedriver, driven by selenium.

Skipped, with the reason, where selenium or the browser is missing (CI installs both
when it can). The page, the server and the model are the ones ``python -m
sknumpy_mlp serve`` runs: nothing here knows which digit is drawn but the assert.
"""

import math
import os
import shutil

import pytest

from sknumpy_mlp.serve import make_server, running
from sknumpy_mlp.serve._cli import build_parser, build_reader

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver)")

# Strokes in the 280x280 canvas' pixels, as a person draws them with a mouse.
ONE = [[(142, 45), (140, 120), (138, 235)]]
ZERO = [[(140 + 62 * math.sin(t), 140 - 95 * math.cos(t))
         for t in (2 * math.pi * i / 36 for i in range(38))]]
SEVEN = [[(78, 52), (140, 50), (205, 53), (165, 142), (125, 235)]]  # plain, no crossbar


@pytest.fixture(scope="module")
def page_url():
    parser = build_parser()
    reader = build_reader(parser.parse_args([]), parser)  # the command's own model
    with running(make_server(reader, port=0)) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1050,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                              options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def draw(driver, strokes):
    """Press, move through the points, release: pointer events, as from a mouse."""
    pad = driver.find_element(By.ID, "pad")
    actions = ActionChains(driver, duration=15)
    for points in strokes:
        x, y = points[0]
        # offsets are from the element's centre; the canvas is 280 CSS pixels wide
        actions.move_to_element_with_offset(pad, round(x - 140), round(y - 140))
        actions.click_and_hold()
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            actions.move_by_offset(round(x1) - round(x0), round(y1) - round(y0))
        actions.release()
    actions.perform()


def reading(driver):
    """The predicted digit once every request the drawing sent has come back."""
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-busy") == "0")
    return driver.find_element(By.ID, "predicted").text


def test_drawn_digits_are_read(browser, page_url, tmp_path):
    browser.get(page_url)
    WebDriverWait(browser, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bars li")) == 10
        and len(d.find_elements(By.CSS_SELECTOR, "#samples figure")) == 18)
    seen = {}
    for digit, strokes in [("1", ONE), ("0", ZERO), ("7", SEVEN)]:
        browser.find_element(By.ID, "clear").click()
        assert reading(browser) == "\u2013"  # a blank canvas reads as nothing
        draw(browser, strokes)
        seen[digit] = reading(browser)
        top = browser.find_element(By.CSS_SELECTOR, "#bars li.top .label").text
        assert top == seen[digit]
    assert seen == {"1": "1", "0": "0", "7": "7"}
    assert browser.find_element(By.ID, "status").text == ""
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    shot = tmp_path / "serve.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("SKNUMPY_MLP_SCREENSHOT"):  # for the README's picture
        shutil.copy(shot, os.environ["SKNUMPY_MLP_SCREENSHOT"])
