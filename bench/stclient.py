"""A minimal Streamlit browser, speaking the app's websocket protocol (protobuf) directly.

It does what a browser tab does to the server, without rendering:
connects to ``/_stcore/stream`` (carrying cookies, so it goes through a
proxy's sticky sessions like a browser), asks for script runs with widget
values, and collects the elements of each run by their label. The load
bench (``bench/load.py``) runs many of these at once; ``tests/serve`` uses
one to check the websocket through Caddy. Streamlit's own protobuf
classes (``streamlit.proto``) encode and decode the messages.
"""

from __future__ import annotations

import json
import ssl
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import connect

#: Element types that are widgets, and the WidgetState field their value goes in.
WIDGETS = {"text_input": "string_value", "text_area": "string_value", "checkbox": "bool_value",
           "radio": "string_value", "selectbox": "string_value", "button": "trigger_value",
           "number_input": "double_value"}


class RunFailed(RuntimeError):
    """The server closed the websocket, timed out or the script raised."""


@dataclass
class Run:
    """One script run as the client saw it."""

    seconds: float
    elements: list = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    #: The ``st.fragment`` id of each element ("" outside any fragment), parallel to ``elements``.
    fragments: list[str] = field(default_factory=list)

    def widget(self, kind: str, label: str):
        """The widget proto of type ``kind`` labelled ``label``, or None."""
        found = self._find(kind, lambda w: w.label == label)
        return found[0] if found else None

    def fragment_of(self, kind: str, label: str) -> str:
        """The fragment holding the widget ``label`` ("" when it is outside every fragment)."""
        found = self._find(kind, lambda w: w.label == label)
        return found[1] if found else ""

    def component(self, name: str):
        """(proto, fragment id) of the ``st.components.v2`` component registered as ``name``, or None."""
        return self._find("bidi_component", lambda c: c.component_name.endswith(name))

    def _find(self, kind, match):
        for element, fragment in zip(self.elements, self.fragments, strict=True):
            if element.WhichOneof("type") == kind and match(getattr(element, kind)):
                return getattr(element, kind), fragment
        return None


class Browser:
    """One browser tab: a websocket session, its cookies and its widget values.

    Parameters
    ----------
    base : str
        ``https://host:port`` (or ``http://``) of the app or of the proxy in front of it.
    ssl_context : ssl.SSLContext, optional
        For ``https``: the context trusting the server's certificate.
    cookies : dict, optional
        Cookies to send (for example a proxy's affinity cookie).
    timeout : float
        Seconds one script run may take.
    """

    def __init__(self, base: str, *, ssl_context: ssl.SSLContext | None = None, cookies: dict | None = None,
                 timeout: float = 60.0) -> None:
        self.base = base.rstrip("/")
        self.ssl_context = ssl_context
        self.cookies = dict(cookies or {})
        self.timeout = timeout
        self.session_id: str | None = None
        self.pages: dict[str, str] = {}
        self.page_hash = ""
        self._values: dict[str, WidgetState] = {}
        self._last: Run | None = None
        self._ws = None
        self._stack = ExitStack()

    # ---------------------------------------------------------------- connection
    def open(self, *, resume: str | None = None) -> None:
        """Connect the websocket; ``resume`` is the id of a session to reconnect to (as a browser does)."""
        url = self.base.replace("https://", "wss://").replace("http://", "ws://") + "/_stcore/stream"
        headers = {"Origin": self.base}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        protocols = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"] + ([resume] if resume else [])
        self._ws = self._stack.enter_context(connect(
            url, ssl=self.ssl_context if url.startswith("wss") else None, additional_headers=headers,
            subprotocols=protocols, open_timeout=self.timeout, max_size=2**26, user_agent_header="stepback-bench"))

    def close(self) -> None:
        """Close the websocket (the server keeps the session for its disconnectedSessionTTL)."""
        self._stack.close()
        self._ws = None

    # ---------------------------------------------------------------- runs
    def run(self, *, triggers: tuple[str, ...] = (), page: str | None = None, fragment: str = "",
            events: tuple[WidgetState, ...] = ()) -> Run:
        """Ask for one script run with the stored widget values (plus one-shot ``triggers``) and wait for its end.

        With ``fragment`` (the id of an ``st.fragment``), only that fragment
        reruns, as when a browser's widget inside it changes; the returned
        run keeps the elements outside the fragment from the previous run.
        ``events`` are one-shot widget states (a component's trigger events).
        The run ends at the end of the script (or fragment) run the request
        started, including the reruns it asks for (``st.rerun``).
        """
        if page is not None:
            self.page_hash = self.pages[page]
        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = self.page_hash
        if fragment:
            state.fragment_id = fragment
        for ws in self._values.values():
            state.widget_states.widgets.add().CopyFrom(ws)
        for wid in triggers:
            w = state.widget_states.widgets.add()
            w.id = wid
            w.trigger_value = True
        for ws in events:
            state.widget_states.widgets.add().CopyFrom(ws)
        t0 = time.perf_counter()
        self._ws.send(msg.SerializeToString())
        run = Run(0.0)
        if self._last is not None:  # a fragment run replaces only its fragment's elements (below)
            run.elements, run.fragments = list(self._last.elements), list(self._last.fragments)
        deadline = t0 + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise RunFailed(f"no end of the script run within {self.timeout:.0f} s")
            try:
                data = self._ws.recv(timeout=remaining)
            except TimeoutError:
                continue
            except Exception as err:  # websockets' ConnectionClosed and friends
                raise RunFailed(f"websocket closed: {err}") from err
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
                self.page_hash = fwd.new_session.page_script_hash or self.page_hash
                rerun = set(fwd.metadata.run.fragment_ids)
                kept = [(e, f) for e, f in zip(run.elements, run.fragments, strict=True) if rerun and f not in rerun]
                run.elements, run.fragments = [e for e, _ in kept], [f for _, f in kept]
                run.texts.clear()
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in fwd.navigation.app_pages}
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                run.elements.append(element)
                run.fragments.append(fwd.delta.fragment_id)
                etype = element.WhichOneof("type")
                if etype == "exception":
                    run.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif etype in ("markdown", "heading", "text", "alert"):
                    run.texts.append(getattr(element, etype).body)
            elif kind == "script_finished":
                if fwd.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
                                           ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                    run.seconds = time.perf_counter() - t0
                    self._last = run
                    return run

    def set_value(self, run: Run, kind: str, label: str, value) -> None:
        """Set the widget ``label`` (of type ``kind``, seen in ``run``) to ``value`` for the next runs."""
        widget = run.widget(kind, label)
        if widget is None:
            raise RunFailed(f"no {kind} labelled {label!r} on the page")
        ws = WidgetState(id=widget.id)
        setattr(ws, WIDGETS[kind], value)
        self._values[widget.id] = ws

    def change(self, run: Run, kind: str, label: str, value) -> Run:
        """Set a widget (a tick, a radio, a number) and wait for the rerun a browser starts (only its fragment's)."""
        self.set_value(run, kind, label, value)
        return self.run(fragment=run.fragment_of(kind, label))

    def click(self, run: Run, label: str, *, page: str | None = None) -> Run:
        """Tap the button ``label`` seen in ``run`` and wait for the rerun it starts (only its fragment's)."""
        button = run.widget("button", label)
        if button is None:
            raise RunFailed(f"no button labelled {label!r} on the page")
        return self.run(triggers=(button.id,), page=page, fragment=run.fragment_of("button", label))

    def component_event(self, run: Run, name: str, event: str, value) -> Run:
        """Send the trigger ``event`` with ``value`` from the ``st.components.v2`` component ``name``, as its JS does."""
        found = run.component(name)
        if found is None:
            raise RunFailed(f"no component {name!r} on the page")
        component, fragment = found
        ws = WidgetState(id=_make_trigger_id(component.id, "events"),
                         json_trigger_value=json.dumps([{"event": event, "value": value}]))
        return self.run(fragment=fragment, events=(ws,))
