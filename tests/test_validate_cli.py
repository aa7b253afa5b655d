"""``riskchain validate``: several files, folders, exit codes and where each line goes."""

from __future__ import annotations

import pytest

from conftest import run_cli

VALID = """\
riskchain: 1
id: {id}
nodes:
  a:
    p: likely
  b:
    parents: [a]
    cpt:
      a=yes: 0.8
      a=no: 0.1
  c:
    parents: [a, b]
    cpt:
      a=yes, b=*: 0.5
      default: 0.2
"""

INVALID = """\
riskchain: 1
nodes:
  a:
    p: 1.5
  b:
    parents: [x]
    cpt: {default: 0.1}
"""


@pytest.fixture
def files(tmp_path, monkeypatch):
    """good.yaml and other.yml (valid) and bad.yaml (two errors) in tmp_path, which is the cwd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.yaml").write_text(VALID.format(id="good"))
    (tmp_path / "bad.yaml").write_text(INVALID)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "other.yml").write_text(VALID.format(id="other"))
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "validate", *args)


BAD_ERRORS = (
    "bad.yaml:4:8: error: probability 1.5 is outside [0, 1]\n"
    "    hint: for a percentage write '1.5%'\n"
    "bad.yaml:6:15: error: unknown parent 'x' of 'b'\n"
)


def test_all_valid_exits_0_with_an_ok_line_each(capsys, files):
    """Every valid file gets 'ok' and a summary on stdout; nothing on stderr."""
    code, out, err = run(capsys, "good.yaml", "sub/other.yml")
    assert code == 0
    assert out == (
        "good.yaml: ok (model 'good': 3 nodes, 3 edges)\n"
        "sub/other.yml: ok (model 'other': 3 nodes, 3 edges)\n"
    )
    assert err == ""


def test_valid_and_invalid_together_exit_1(capsys, files):
    """Valid files still get their 'ok' line; errors go to stderr with a count."""
    code, out, err = run(capsys, "good.yaml", "bad.yaml")
    assert code == 1
    assert out == "good.yaml: ok (model 'good': 3 nodes, 3 edges)\n"
    assert err == BAD_ERRORS + "2 errors in 1 file\n"


def test_errors_of_several_files_are_counted_together(capsys, files):
    """Two invalid files: each one's errors under its own name, one total at the end."""
    (files / "worse.yaml").write_text("riskchain: 3\nnodes:\n  a: {p: 0.2}\n")
    code, out, err = run(capsys, "bad.yaml", "worse.yaml")
    assert code == 1
    assert out == ""
    assert err == (
        BAD_ERRORS
        + "worse.yaml:1:12: error: unsupported format version '3'; this riskchain reads version 1\n"
        "    hint: write 'riskchain: 1'\n"
        "3 errors in 2 files\n"
    )


def test_folder_is_searched_recursively_in_sorted_order(capsys, files):
    """A folder means every .yaml/.yml file under it, in a stable order."""
    code, out, err = run(capsys, ".")
    assert code == 1
    assert out == (
        "good.yaml: ok (model 'good': 3 nodes, 3 edges)\n"
        "sub/other.yml: ok (model 'other': 3 nodes, 3 edges)\n"
    )
    assert err == BAD_ERRORS + "2 errors in 1 file\n"


def test_folder_of_valid_files_exits_0(capsys, files):
    """A folder holding only valid models passes."""
    code, out, err = run(capsys, "sub")
    assert (code, out, err) == (0, "sub/other.yml: ok (model 'other': 3 nodes, 3 edges)\n", "")


def test_missing_path_is_a_usage_error(capsys, files):
    """A path that does not exist exits 2 and names the path; nothing is validated."""
    code, out, err = run(capsys, "good.yaml", "missing.yaml")
    assert code == 2
    assert out == ""
    assert err == "error: missing.yaml: no such file or folder\n"


def test_folder_without_models_is_a_usage_error(capsys, files):
    """A folder with no YAML files in it exits 2."""
    (files / "empty").mkdir()
    code, out, err = run(capsys, "empty")
    assert (code, out) == (2, "")
    assert err == "error: empty: no .yaml files in this folder\n"


def test_no_path_is_a_usage_error(capsys, files):
    """validate without a path exits 2 (a click usage error)."""
    code, _, err = run(capsys)
    assert code == 2
    assert "Missing argument 'PATH...'" in err


def test_binary_file_named_directly_is_reported_not_crashing(capsys, files):
    """A file that is not text is one located error, exit 1."""
    (files / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    code, out, err = run(capsys, "image.png")
    assert (code, out) == (1, "")
    assert err == (
        "image.png:3:1: error: not a text file: it contains NUL bytes\n"
        "    hint: model and scenario files are UTF-8 YAML text\n"
        "1 error in 1 file\n"
    )


WIDE = "riskchain: 1\nnodes:\n" + "".join(f"  p{i}: {{p: 0.5}}\n" for i in range(20)) + (
    "  c:\n    parents: [" + ", ".join(f"p{i}" for i in range(20)) + "]\n    cpt: {default: 0.3}\n"
)


def test_max_table_is_the_budget_of_a_models_tables(capsys, files):
    """A 2^21-entry table (16 MiB, about 48 MiB to build) is refused at its 'parents:'
    under --max-table 32MiB, with the flag value that would let it through."""
    (files / "wide.yaml").write_text(WIDE)
    code, out, err = run(capsys, "--max-table", "32MiB", "wide.yaml")
    assert code == 1
    assert err.startswith(
        "wide.yaml:24:5: error: the table of 'c' would have 2,097,152 entries "
        "(20 parents of 2 states, 2 states of its own): building it needs about 48.0 MiB, "
        "above the budget of 32.0 MiB; refused before building it\n"
        "    hint: split the parents with intermediate nodes, or give them fewer states; "
        "if the machine has the memory, raise the budget with --max-table 64MiB\n"
    )
    code, out, err = run(capsys, "--max-table", "64MiB", "wide.yaml")
    assert (code, out, err) == (0, "wide.yaml: ok (model 'wide': 21 nodes, 20 edges)\n", "")


def test_forty_parents_are_refused_by_the_default_budget(capsys, files):
    """The 1 KB file that ended in a numpy "8.00 TiB" traceback: one positioned error."""
    parents = ", ".join(f"p{i}" for i in range(40))
    text = "riskchain: 1\nnodes:\n" + "".join(f"  p{i}: {{p: 0.5}}\n" for i in range(40))
    (files / "wide.yaml").write_text(text + f"  c:\n    parents: [{parents}]\n    cpt: {{default: 0.3}}\n")
    code, _, err = run(capsys, "wide.yaml")
    assert code == 1
    assert err.splitlines()[0].startswith("wide.yaml:44:5: error: the table of 'c' would have ")
    assert "Traceback" not in err
