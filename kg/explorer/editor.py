"""The SPARQL editor of the explorer: streamlit-code-editor (Ace, through react-ace) in SPARQL mode,
with the ontology's terms as completions and the last run's syntax error marked in place.

Why this component, and what was measured, is in docs/explorer.md (SPARQL). Ace and Python each
hold a copy of the user's text; three rules keep the text the user sees the text that runs:

- Python never sends the editor new text. The editor is only given text when it is created; to
  load other text (a competency question, a link, the plain-text box) the page gives the editor
  a new key, so a new editor starts from that text.
- The component keeps its own copy current on every keystroke (react-ace's change debounce is
  off). react-ace writes that copy back into Ace whenever the editor's arguments change (the
  error marks, after a run); with the component's default quarter-second debounce, a run that
  came sooner after typing put the older copy back and dropped the last keystrokes.
- The editor tells Python its text only together with an event that needs it: Ctrl+Enter
  (``submit``: the text and the wish to run travel in one message) and leaving the editor
  (``blur``). Reporting every pause in typing as well made a rerun that could overtake, and
  cancel, the Run button's click. The page's Run button, pressed while the editor has the
  keyboard, sends ``submit`` too (:func:`run_button_bridge`): a blur and a click are two
  messages, and the browser does not keep their order.
"""

from __future__ import annotations

import re
from typing import Any

from code_editor import code_editor

from kg.explorer import ui
from kg.namespaces import PREFIXES
from kg.read.terms import Term, ontology_terms

#: Where a qikg syntax error says the parser stopped (kg.sparql: "... at line 3, column 7: ...").
_POSITION = re.compile(r"\bline (\d+), column (\d+)\b")
#: Inside the editor's frame: the error underline, and Ace's completion popup wide enough to
#: show a term's label beside it.
_FONTS = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace'
_CSS = """
.qikg-error { position: absolute; border-bottom: 2px solid #c53030;
              background: rgba(197, 48, 48, 0.15); }
.ace_editor.ace_autocomplete { width: 520px !important; }
"""


def completions(terms: list[Term]) -> list[dict[str, Any]]:
    """Ace completion items: each prefix (``qikg:``), then each term as ``qikg:Nurse`` with its
    label beside it.

    Ace replaces what was typed since its list opened, and the list opens on the second letter
    of a word and stays open through the colon: after ``qikg:Nur`` it replaces ``qikg:Nur``, so a
    term inserts its whole CURIE. (If the list was closed at the colon and opens on ``Nur``
    alone, the prefix is doubled: a limit of static completions, docs/explorer.md.)

    >>> completions([Term("qikg:Nurse", "nurse")])[-1]
    {'caption': 'qikg:Nurse', 'value': 'qikg:Nurse', 'meta': 'nurse', 'score': 100}
    """
    items: list[dict[str, Any]] = [
        {"caption": f"{p}:", "value": f"{p}:", "meta": "prefix", "score": 200} for p in PREFIXES
    ]
    items += [
        {"caption": t.curie, "value": t.curie, "meta": t.label, "score": 100}
        for t in terms
        if not t.curie.endswith(":")
    ]
    return items


def ontology_completions() -> list[dict[str, Any]]:
    """The completion items for the store's ontology terms (kg.read.terms), read once per
    version of the store."""
    return completions(ui.cached(ontology_terms))


def error_position(message: str) -> tuple[int, int] | None:
    """The line and column (both from 1) a qikg syntax error names, if it names one.

    >>> error_position("SPARQL syntax error at line 2, column 17: cannot read from `}`")
    (2, 17)
    >>> error_position("the query is empty") is None
    True
    """
    match = _POSITION.search(message)
    return (int(match.group(1)), int(match.group(2))) if match else None


def marks(message: str, text: str) -> dict[str, Any]:
    """Ace props that mark an error in ``text``: a gutter icon on its line (hover for the
    message) and the character where the parser stopped underlined."""
    where = error_position(message)
    if where is None:
        return {}
    lines = text.splitlines() or [""]
    row = min(max(where[0] - 1, 0), len(lines) - 1)
    column = max(where[1] - 1, 0)
    end = column + 1 if column < len(lines[row]) else column + 2
    return {
        "annotations": [{"row": row, "column": column, "type": "error", "text": message}],
        "markers": [
            {
                "startRow": row,
                "startCol": column,
                "endRow": row,
                "endCol": end,
                "className": "qikg-error",
                "type": "text",
            }
        ],
    }


#: A script for the page around the editor: a press of the page's Run button (the element keyed
#: ``{key}``) while the editor has the keyboard runs the editor's own "submit" (Ctrl+Enter)
#: instead, and the editor keeps the keyboard. Without it the press sends two messages, the
#: editor's text (as it loses the keyboard) and the click, whose order the browser does not
#: keep: Chromium handles the click, an input event, before the text's message, so on a busy
#: machine the run started with the older text and the newer one came after it.
_RUN_BRIDGE = """<script>
(() => {
  if (window.qikgRunBridge) return;
  window.qikgRunBridge = true;
  const onRun = (event) =>
    event.target instanceof Element && event.target.closest(".st-key-%(key)s") !== null;
  const focusedEditor = () => {
    const frame = document.activeElement;
    if (!(frame instanceof HTMLIFrameElement) || frame.title !== "code_editor.code_editor") {
      return null;
    }
    try {
      const box = frame.contentDocument.getElementById("REACT_ACE_EDITOR");
      return box && frame.contentWindow.ace ? frame.contentWindow.ace.edit(box) : null;
    } catch (error) {
      return null;
    }
  };
  let pressed = null;
  document.addEventListener("mousedown", (event) => {
    pressed = onRun(event) ? focusedEditor() : null;
    if (pressed) event.preventDefault();
  }, true);
  document.addEventListener("click", (event) => {
    if (!pressed || !onRun(event)) return;
    const editor = pressed;
    pressed = null;
    event.preventDefault();
    event.stopPropagation();
    editor.execCommand("submit");
  }, true);
})();
</script>"""


def run_button_bridge(key: str) -> str:
    """The HTML (a script, for ``st.html(..., unsafe_allow_javascript=True)``) that makes the
    Run button keyed ``key`` send the editor's text and the wish to run in one message, as
    Ctrl+Enter does, when the editor has the keyboard (see _RUN_BRIDGE). Pressed otherwise (the
    editor's text already sent, or no browser: Streamlit's AppTest), the button works as a
    button.

    >>> '.closest(".st-key-sparql_run")' in run_button_bridge("sparql_run")
    True
    """
    if not re.fullmatch(r"[\w-]+", key):
        raise ValueError(f"not a widget key for a CSS class: {key!r}")
    return _RUN_BRIDGE % {"key": key}


def sparql_editor(
    text: str, key: str, items: list[dict[str, Any]], error_props: dict[str, Any]
) -> dict[str, Any]:
    """Draw the editor; returns the component's last response (``id``, ``type``, ``text``).

    The response changes when the user leaves the editor (``type`` ``blur``) or presses
    Ctrl+Enter (``submit``). A new ``key`` starts a new editor from ``text``.
    """
    response = code_editor(
        text,
        lang="sparql",
        theme="light",
        height=[12, 30],
        key=key,
        completions=items,
        response_mode=["blur"],
        options={
            "showLineNumbers": True,
            "wrap": True,
            "tabSize": 2,
            "fontFamily": _FONTS,
            "liveAutocompletionThreshold": 2,
        },
        # Ace's own "chrome" theme: the component's streamlit_* themes @import a web font from
        # a CDN, and the explorer works offline (its browser tests refuse any outside request)
        props={
            "theme": "chrome",
            "enableBasicAutocompletion": True,
            # the component's default top margin scrolled the text a line away from its numbers
            "scrollMargin": [0, 0, 0, 0],
            # the component's copy of the text follows every keystroke (module docstring)
            "debounceChangePeriod": 0,
            **error_props,
        },
        # Enter always starts a new line (Tab or a click takes a completion): with live
        # completion, Enter after "?o" or "LIMIT" would otherwise put a term in the query
        keybindings={"completer": [{"name": "Return", "bindkey": ""}]},
        component_props={"globalCSS": _CSS},
    )
    return response if isinstance(response, dict) else {}
