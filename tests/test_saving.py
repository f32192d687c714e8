"""Saving as people expect: every to_* takes a file object as well as a path, and
Animation.save picks the format from the suffix, as matplotlib's savefig does."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import einviz
from einviz import EinvizError
from einviz._files import write_file
from einviz.errors import ArgumentTypeError

MAGIC = {"svg": b"<svg", "png": b"\x89PNG", "gif": b"GIF8", "html": b"<!DOCTYPE html>"}


@pytest.fixture(scope="module")
def anim():
    return einviz.animate("i,i->", np.array([1, 2]), np.array([3, 4]))


@pytest.mark.parametrize("kind", ["svg", "png", "gif", "html"])
def test_to_star_writes_into_a_binary_file_object_what_it_returns(anim, kind):
    handle = io.BytesIO()
    assert getattr(anim, f"to_{kind}")(handle) is None
    returned = getattr(anim, f"to_{kind}")()
    data = returned.encode() if isinstance(returned, str) else returned
    assert handle.getvalue().startswith(MAGIC[kind])
    if kind in ("svg", "png"):  # the others carry ids made afresh for each call
        assert handle.getvalue() == data
    assert not handle.closed


@pytest.mark.parametrize("kind", ["svg", "html"])
def test_text_outputs_go_into_a_text_file_object(anim, kind):
    handle = io.StringIO()
    getattr(anim, f"to_{kind}")(handle)
    assert handle.getvalue().startswith(MAGIC[kind].decode())


def test_binary_output_into_a_text_file_without_buffer_is_refused(anim):
    with pytest.raises(EinvizError, match=r"cannot write '<StringIO>': it is a text file, and this "
                                          r"output is binary.*\n.*open\('figure.png', 'wb'\)"):
        anim.to_png(io.StringIO())


def test_binary_output_into_a_text_file_with_a_buffer_uses_the_buffer(anim, tmp_path):
    with open(tmp_path / "out.png", "w") as handle:
        handle.write("")
        anim.to_png(handle)
    assert (tmp_path / "out.png").read_bytes().startswith(MAGIC["png"])


def test_a_real_file_object_is_written_and_left_open(anim, tmp_path):
    with open(tmp_path / "f.gif", "wb") as handle:
        anim.to_gif(handle)
        assert not handle.closed
    assert (tmp_path / "f.gif").read_bytes().startswith(MAGIC["gif"])


def test_a_closed_file_is_an_einviz_error(anim):
    handle = io.BytesIO()
    handle.close()
    with pytest.raises(EinvizError, match=r"cannot write '<BytesIO>': I/O operation on closed file"):
        anim.to_svg(handle)


@pytest.mark.parametrize("kind", ["svg", "png", "gif", "html"])
def test_save_picks_the_format_from_the_suffix(anim, tmp_path, kind):
    path = tmp_path / f"figure.{kind.upper() if kind == 'png' else kind}"
    assert anim.save(path) is None
    assert path.read_bytes().startswith(MAGIC[kind])


def test_save_takes_str_paths_htm_and_format_over_the_suffix(anim, tmp_path):
    anim.save(str(tmp_path / "a.htm"))
    assert (tmp_path / "a.htm").read_bytes().startswith(MAGIC["html"])
    anim.save(tmp_path / "b.svg", format="png")
    assert (tmp_path / "b.svg").read_bytes().startswith(MAGIC["png"])


def test_save_passes_options_on(anim, tmp_path):
    anim.save(tmp_path / "one.png", scale=0.5)
    anim.save(tmp_path / "two.png", scale=1.0)
    from PIL import Image

    small, big = (Image.open(tmp_path / f"{n}.png").size for n in ("one", "two"))
    assert small[0] * 2 in (big[0] - 1, big[0], big[0] + 1)
    anim.save(tmp_path / "once.gif", fps=4, loop=False)
    assert (tmp_path / "once.gif").read_bytes() == anim.to_gif(fps=4, loop=False)


def test_save_to_a_named_file_object_reads_its_suffix(anim, tmp_path):
    with open(tmp_path / "x.gif", "wb") as handle:
        anim.save(handle)
    assert (tmp_path / "x.gif").read_bytes().startswith(MAGIC["gif"])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("figure.jpg", r"cannot tell the format of '.*figure.jpg': it has the suffix '.jpg'\n"
                       r"  hint: end the name with .svg, .png, .gif or .html, or pass format= \(gif, html, png, svg\)"),
        ("figure", r"cannot tell the format of '.*figure': it has no suffix"),
    ],
)
def test_save_refuses_a_suffix_it_cannot_write(anim, tmp_path, name, message):
    with pytest.raises(EinvizError, match=message):
        anim.save(tmp_path / name)
    assert not (tmp_path / name).exists()


def test_save_refuses_a_bad_format_an_unnamed_file_and_a_foreign_option(anim, tmp_path):
    with pytest.raises(EinvizError, match=r"einviz cannot save the format 'pdf'\n  hint: format= is one of gif, html, png, svg"):
        anim.save(tmp_path / "x.pdf", format="pdf")
    with pytest.raises(EinvizError, match=r"a file object without a name needs format="):
        anim.save(io.BytesIO())
    with pytest.raises(ArgumentTypeError, match=r"SVG output takes no option 'fps'\n  hint: to_svg takes no options"):
        anim.save(tmp_path / "x.svg", fps=3)
    with pytest.raises(ArgumentTypeError, match=r"PNG output takes no option 'fps'\n  hint: to_png takes frame, scale"):
        anim.save(tmp_path / "x.png", fps=3)


def test_save_checks_the_folder_first(anim, tmp_path):
    with pytest.raises(EinvizError, match=r"there is no folder"):
        anim.save(tmp_path / "missing" / "x.png")


def test_write_file_puts_text_into_stdout_and_bytes_into_its_buffer(capfdbinary):
    write_file(sys.stdout, "text ")
    write_file(sys.stdout, b"\x89bytes")
    assert capfdbinary.readouterr().out == b"text \x89bytes"


def test_other_writers_take_file_objects_too():
    with einviz.capture() as calls:
        np.einsum("ij->i", np.ones((2, 2)))
    handle = io.StringIO()
    calls.report(handle)
    assert handle.getvalue().startswith("<!DOCTYPE html>")

