"""Generate ``docs/cli.md`` from the CLI's own ``--help`` texts.

Run ``python -m riskchain._clidoc docs/cli.md`` after changing a command; a
test fails while the file is stale.
"""

from __future__ import annotations

import sys

HEADER = """# riskchain command-line reference

Generated from `riskchain --help` and `riskchain COMMAND --help` by
`python -m riskchain._clidoc docs/cli.md`; a test fails when this file is stale.

Exit codes: 0 success, 1 a problem in an input file or an impossible/too large
question (the message says which), 2 a usage error (bad flag, unknown node or
state named on the command line). Add `--debug` before the command to see a
traceback instead of the one-line message.

Tab completion: `riskchain --install-completion` installs it for the shell it
runs in (bash, zsh, fish or PowerShell; it detects which); `riskchain
--show-completion` prints the script to install by hand.
"""


def render() -> str:
    """The Markdown text of the CLI reference."""
    import typer.main

    from riskchain.cli import app

    root = typer.main.get_command(app)
    settings = {
        "terminal_width": 100,
        "max_content_width": 100,
        "help_option_names": ["-h", "--help"],
    }
    root_ctx = root.context_class(root, info_name="riskchain", **settings)
    parts = [HEADER, "## riskchain\n", "```text", root.get_help(root_ctx).rstrip(), "```", ""]
    for name in root.list_commands(root_ctx):
        cmd = root.get_command(root_ctx, name)
        ctx = cmd.context_class(cmd, info_name=name, parent=root_ctx, **settings)
        parts += [f"## riskchain {name}\n", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    from riskchain.io.files import atomic_write

    text = render()
    if argv:
        atomic_write(argv[0], text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
