"""The explorer's Streamlit settings: one table, passed by ``qikg explore`` as command-line
options so that they hold wherever the explorer is started.

Streamlit reads ``.streamlit/config.toml`` only from the folder it is started in (and the user's
home), so with a file alone ``cd /tmp && qikg explore`` showed full error details and took 200 MB
uploads, and an installed wheel, which has no such file, always did. Options on the command line
also win over a user's own config.toml. The repository's ``.streamlit/config.toml`` repeats this
table for ``streamlit run app.py`` started there; a test checks that the two agree.
"""

from __future__ import annotations

#: Largest upload, in MB; the Validate & import page checks it itself as well.
MAX_UPLOAD_MB = 50

#: Streamlit option -> value.
SETTINGS: dict[str, str | int | bool] = {
    "server.maxUploadSize": MAX_UPLOAD_MB,
    "server.headless": True,
    "browser.gatherUsageStats": False,
    # users see one clear line for an error, never a traceback (app.py catches errors too)
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",
    "theme.primaryColor": "#2b6cb0",
}


def streamlit_options() -> list[str]:
    """The settings as ``streamlit run`` options.

    >>> streamlit_options()[:4]
    ['--server.maxUploadSize', '50', '--server.headless', 'true']
    """
    options = []
    for name, value in SETTINGS.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        options += [f"--{name}", text]
    return options
