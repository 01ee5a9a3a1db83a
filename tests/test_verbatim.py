"""Rendering with the template split (apiforge copies the files copier would copy as they
are) makes exactly the project that copier's own run_copy makes of the whole template."""

from __future__ import annotations

import functools
import stat
import warnings
from pathlib import Path
from typing import Any

import copier
import pytest
from helpers import EVERY_TYPE, write_files
from jinja2 import TemplateSyntaxError

from apiforge.render import copy_template
from apiforge.resources import make_resource, parse_fields
from apiforge.verbatim import split_template


def _resources() -> list[dict[str, Any]]:
    product = make_resource("product", parse_fields(EVERY_TYPE), owned=True, down_revision="0003")
    category = make_resource(
        "category",
        parse_fields(["title:str:100:unique", "note:text?"]),
        existing=[product],
        down_revision=product.revision,
    )
    return [product.as_answer(), category.as_answer()]


ANSWER_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "postgresql-gitlab-3.13": {"database": "postgresql", "ci": "gitlab", "python_version": "3.13"},
    "resources-no-ci": {"ci": "none", "python_version": "3.12", "resources": _resources()},
}


def _tree(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder below *root*: content (None for a folder) and permission bits."""
    return {
        path.relative_to(root).as_posix(): (
            None if path.is_dir() else path.read_bytes(),
            stat.S_IMODE(path.lstat().st_mode),
        )
        for path in sorted(root.rglob("*"))
    }


def _renders(src: Path, dest: Path, data: dict[str, Any], *, split: bool) -> None:
    run = functools.partial(
        copier.run_copy,
        dst_path=dest,
        data=data,
        defaults=True,
        quiet=True,
        unsafe=False,
        cleanup_on_error=False,
        overwrite=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if split:
            copy_template(run, str(src), dest)
        else:
            run(str(src))


def _assert_same_render(src: Path, tmp_path: Path, data: dict[str, Any]) -> dict[str, Any]:
    _renders(src, tmp_path / "split" / "svc", data, split=True)
    _renders(src, tmp_path / "whole" / "svc", data, split=False)
    split, whole = _tree(tmp_path / "split" / "svc"), _tree(tmp_path / "whole" / "svc")
    assert sorted(split) == sorted(whole)
    different = [name for name in whole if split[name] != whole[name]]
    assert not different
    return split


@pytest.mark.parametrize("answers", ANSWER_SETS.values(), ids=ANSWER_SETS.keys())
def test_the_bundled_template_renders_the_same_split_or_whole(
    template_dir: Path, tmp_path: Path, answers: dict[str, Any]
) -> None:
    with split_template(str(template_dir)) as split:
        assert split is not None, "the bundled template is rendered split"
        assert "src/api/routes/auth.py" in split.files
        assert ("src/main.py.jinja", "src/main.py") in split.bundled
        assert not any("{" in name or "_locks" in name for name, _ in split.bundled)
    tree = _assert_same_render(template_dir, tmp_path, {"project_name": "svc", **answers})
    assert f"_src_path: {template_dir}\n".encode() in (tree[".copier-answers.yml"][0] or b"")


TRICKY_COPIER_YML = """\
_subdirectory: tpl
_exclude:
  - "*.tmp"
  - "!keep.tmp"
  - skipdir/
  - _parts
  - copier.yml

name:
  type: str
  default: demo
flag:
  type: bool
  default: true
"""

TRICKY_FILES = {
    "copier.yml": TRICKY_COPIER_YML,
    "c.txt.jinja": "beside the subdirectory: copier skips tpl/c.txt for it\n",
    "tpl/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "tpl/a.txt": "plain {{ not rendered }}\n",
    "tpl/b.txt": "plain, shadowed by b.txt.jinja\n",
    "tpl/b.txt.jinja": "rendered {{ name }}\n",
    "tpl/c.txt": "skipped by copier\n",
    "tpl/{{ name }}.txt": "a templated name\n",
    "tpl/{% if flag %}opt{% endif %}/x.txt": "inside a templated folder\n",
    "tpl/deep/er/plain.py": "print('deep')\n",
    "tpl/deep/er/info.txt.jinja": (
        "from {{ _copier_conf.src_path }}\n{% include 'tpl/_parts/part.txt' %}"
    ),
    "tpl/scoped.txt.jinja": "{% set name = 'shadowed' %}{% import 'tpl/_parts/m.jinja' as m %}"
    "{{ name }} {{ m.shout(name) }}\n",
    "tpl/unscoped.txt.jinja": "{{ name }} {{ m is defined }}\n",
    "tpl/trimmed.txt.jinja": "  {%- if flag -%}\n  yes  \n{%- else -%} no {%- endif -%}  \n",
    "tpl/nonl.txt.jinja": "no newline at the end {{ name }}",
    "tpl/_parts/m.jinja": "{% macro shout(s) %}{{ s | upper }}!{% endmacro %}",
    "tpl/blocks.txt.jinja": "{% block b %}in a block{% endblock %} {{ self.b() }}\n",
    "tpl/_parts/part.txt": "an included part\n",
    "tpl/drop.tmp": "excluded\n",
    "tpl/keep.tmp": "taken back in\n",
    "tpl/skipdir/y.txt": "excluded with its folder\n",
    "tpl/.copier-answers.yml": "a plain file named as the answers file\n",
}


def _tricky(root: Path) -> Path:
    write_files(root, TRICKY_FILES)
    (root / "tpl" / "empty" / "nested").mkdir(parents=True)
    script = root / "tpl" / "bin" / "run.sh"
    write_files(root, {"tpl/bin/run.sh": "#!/bin/sh\necho run\n"})
    script.chmod(0o755)
    (root / "tpl" / "a.txt").chmod(0o600)
    return root


@pytest.mark.parametrize("flag", [True, False])
def test_a_template_with_every_kind_of_name_renders_the_same(tmp_path: Path, flag: bool) -> None:
    template = _tricky(tmp_path / "template")
    with split_template(str(template)) as split:
        assert split is not None
        # keep.tmp is left to copier, as a pattern excludes it (and a negated one takes it back)
        assert set(split.files) == {"a.txt", "bin/run.sh", "deep/er/plain.py"}
        assert "empty/nested" in split.folders
        assert {name for name, _ in split.bundled} == {
            "deep/er/info.txt.jinja",
            "nonl.txt.jinja",
            "scoped.txt.jinja",
            "trimmed.txt.jinja",
            "unscoped.txt.jinja",
        }  # not b.txt.jinja (it shadows b.txt) nor blocks.txt.jinja
    tree = _assert_same_render(template, tmp_path, {"name": "thing", "flag": flag})
    assert tree["bin/run.sh"][1] == 0o755
    assert tree["empty/nested"][0] is None
    assert f"from {template}\n".encode() in (tree["deep/er/info.txt"][0] or b"")
    assert f"_src_path: {template}\n".encode() in (tree[".copier-answers.yml"][0] or b"")
    assert tree["scoped.txt"][0] == b"shadowed SHADOWED!\n"
    assert tree["unscoped.txt"][0] == b"thing False\n"


def test_a_template_without_subdirectory_renders_the_same(tmp_path: Path) -> None:
    template = write_files(
        tmp_path / "template",
        {
            "copier.yml": "name:\n  type: str\n  default: demo\n",
            "README.md.jinja": "# {{ name }}\n",
            "src/app.py": "APP = 1\n",
            "src/app.pyc": "excluded by copier's defaults\n",
            "{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
        },
    )
    with split_template(str(template)) as split:
        assert split is not None
        assert split.files == ("src/app.py",)
    tree = _assert_same_render(template, tmp_path, {"name": "thing"})
    assert "copier.yml" not in tree


def test_a_template_including_a_plain_file_renders_whole_again(tmp_path: Path) -> None:
    template = write_files(
        tmp_path / "template",
        {
            "copier.yml": "_subdirectory: tpl\nname:\n  type: str\n  default: demo\n",
            "tpl/plain.txt": "shared text\n",
            "tpl/uses.txt.jinja": "{{ name }}: {% include 'tpl/plain.txt' %}",
        },
    )
    with split_template(str(template)) as split:
        assert split is not None
        assert split.files == ("plain.txt",)
    tree = _assert_same_render(template, tmp_path, {"name": "thing"})
    assert tree["uses.txt"][0] == b"thing: shared text\n"


def test_a_bundled_file_that_fails_fails_as_copier_makes_it_fail(tmp_path: Path) -> None:
    template = write_files(
        tmp_path / "template",
        {
            "copier.yml": "_subdirectory: tpl\n",
            "tpl/fine.txt.jinja": "fine\n",
            "tpl/broken.txt.jinja": "{{ oops \n",
        },
    )
    with split_template(str(template)) as split:
        assert split is not None
        assert len(split.bundled) == 2
    errors = []
    for how in (True, False):
        with pytest.raises(TemplateSyntaxError) as caught:
            _renders(template, tmp_path / str(how) / "svc", {}, split=how)
        errors.append((caught.value.name, caught.value.lineno, caught.value.message))
    assert errors[0] == errors[1]
    assert errors[0][0] == "tpl/broken.txt.jinja"


def test_jinja_options_on_whitespace_keep_files_out_of_the_bundle(tmp_path: Path) -> None:
    template = write_files(
        tmp_path / "template",
        {
            "copier.yml": "_envops:\n  trim_blocks: true\n",
            "a.txt.jinja": "{% if true %}\nyes\n{% endif %}\n",
            "b.txt": "plain\n",
        },
    )
    with split_template(str(template)) as split:
        assert split is not None
        assert split.bundled == ()
        assert split.files == ("b.txt",)
    _assert_same_render(template, tmp_path, {})


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"copier.yml": "_jinja_extensions: [jinja2.ext.do]\n"}, "extensions"),
        ({"copier.yml": "_tasks: [echo hi]\n"}, "tasks"),
        ({"copier.yml": "_templates_suffix: ''\n"}, "every file a template"),
        ({"copier.yml": "_exclude: ['{{ name }}']\n"}, "Jinja in an exclusion"),
        ({"t.txt.jinja": "{% include 'maybe.txt' ignore missing %}"}, "a choice of files"),
        ({"t.txt.jinja": "{% include ['a.txt', 'b.txt'] %}"}, "a choice of files"),
        ({"copier.yml": "---\na: 1\n---\nb: 2\n"}, "several YAML documents"),
        (
            {"copier.yml": "_subdirectory: tpl\n", "tpl/d/x.md": "x\n", "d/x.md.jinja": "y\n"},
            "a templated sibling in a folder beside the subdirectory",
        ),
    ],
)
def test_templates_the_split_cannot_vouch_for_are_rendered_whole(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    template = write_files(tmp_path / "template", {"copier.yml": "", "plain.txt": "x\n", **files})
    with split_template(str(template)) as split:
        assert split is None, why


def test_symlinks_git_repositories_and_relative_paths_are_not_split(tmp_path: Path) -> None:
    template = write_files(tmp_path / "template", {"copier.yml": "", "plain.txt": "x\n"})
    with split_template(str(template)) as split:
        assert split is not None
    (template / "link.txt").symlink_to(template / "plain.txt")
    with split_template(str(template)) as split:
        assert split is None
    (template / "link.txt").unlink()
    (template / ".git").mkdir()
    with split_template(str(template)) as split:
        assert split is None
    (template / ".git").rmdir()
    with split_template("template") as split:
        assert split is None
    with split_template("https://example.com/template.git") as split:
        assert split is None
