"""The web console of ``serve`` in a real headless Chromium: trigger an event from the
page and see the delivery appear, live."""

from __future__ import annotations

import httpx

from atscale_mock.serve import EngineServer

from .browser import page
from .httpserver import ScriptedServer


def test_console_triggers_an_event_and_lists_the_delivery(srv: ScriptedServer) -> None:
    with EngineServer() as engine:
        httpx.post(
            engine.url + "/_mock/webhooks",
            json={
                "url": srv.url + "/console",
                "signing": {"scheme": "standard-webhooks", "secret": "whsec_" + "A" * 32},
            },
        )
        with page("serve-console") as tab:
            errors: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.goto(engine.url + "/")
            tab.wait_for_selector("#webhooks tbody tr")
            assert "standard-webhooks" in tab.inner_text("#webhooks")
            tab.wait_for_selector("#live:text('(live)')")
            tab.click("button[data-event='slow-query']")
            row = tab.wait_for_selector(
                "#deliveries tbody tr[data-event='slow-query']", timeout=10_000
            )
            assert row is not None
            text = row.inner_text()
            assert "200" in text and "standard-webhooks" in text and "valid" in text
            assert len(srv.seen) == 1  # the page's button made exactly one delivery
            # replay from the page: the same webhook again
            tab.click("#deliveries tbody tr >> text=Replay")
            tab.wait_for_function("document.querySelectorAll('#deliveries tbody tr').length == 2")
            assert len(srv.seen) == 2 and srv.seen[0].body == srv.seen[1].body
            assert errors == []


def test_console_asks_for_the_admin_token(srv: ScriptedServer) -> None:
    with (
        EngineServer(admin_token="t0ken-for-console") as engine,
        page("serve-console-token") as tab,
    ):
        tab.goto(engine.url + "/")
        tab.wait_for_selector("#auth:not([hidden])")
        tab.fill("#token", "t0ken-for-console")
        tab.click("#save-token")
        tab.wait_for_selector("button[data-event='unpublish']")
        assert tab.inner_text("#error") == ""
