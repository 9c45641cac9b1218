"""The toolbar's "Copy view" in headless Chromium: it asks Python for the view's state, puts the
JSON on the clipboard where the page may write it, and else shows it selected in a text box."""

from __future__ import annotations

import json

from test_widget_page import STATE, open_page

from ftle_widget import FTLEView
from ftle_widget.paper.models import mlp


def state_json() -> str:
    view = FTLEView(mlp(2, 10, 4, 1, seed=0), extent=(-1.0, 2.0, -1.5, 1.5), vmin=-2.0, vmax=2.0)
    try:
        return json.dumps(view.state())
    finally:
        view.close()


def click_copy_and_answer(page, text: str) -> None:
    page.click(".ftle-toolbar [data-action=copy]")
    page.wait_for_function("window.sent.some((m) => m.kind === 'state_request')")
    page.evaluate("(json) => window.deliver({kind: 'state', json}, [])", text)


def test_copy_view_puts_the_states_json_on_the_clipboard(browser):
    text = state_json()
    page = open_page(browser, STATE, secure=True, permissions=["clipboard-read", "clipboard-write"])
    click_copy_and_answer(page, text)
    button = page.locator(".ftle-toolbar [data-action=copy]")
    page.wait_for_function(
        "document.querySelector('.ftle-toolbar [data-action=copy]').textContent === 'Copied'"
    )
    assert page.evaluate("navigator.clipboard.readText()") == text
    assert json.loads(text)["plane"] == {"shape": [2], "standard": [0, 1]}
    page.wait_for_function(  # the label comes back
        "document.querySelector('.ftle-toolbar [data-action=copy]').textContent === 'Copy view'"
    )
    assert button.count() == 1 and page.locator("textarea.ftle-state").count() == 0
    page.close()


def test_without_the_clipboard_the_json_shows_selected_to_copy_by_hand(browser):
    text = state_json()
    page = open_page(browser, STATE)
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    click_copy_and_answer(page, text)
    page.wait_for_selector("textarea.ftle-state")
    assert page.eval_on_selector("textarea.ftle-state", "(t) => t.value") == text
    selected = page.eval_on_selector(
        "textarea.ftle-state", "(t) => t.value.slice(t.selectionStart, t.selectionEnd)"
    )
    assert selected == text
    page.close()
