"""What `receiver dev` and the fixtures say when SeaweedFS exits at start: weed's own reason,
not "see the log" in front of a Go stack trace."""

from __future__ import annotations

from pathlib import Path

from receiver.devtools.seaweed import _first_error

# The tail of weed.log when a second weed opened a data directory already in use.
LOCKED = """\
I1201 22:42:38.941185 leveldb2_store.go:43 filer store leveldb2 dir: /d/data/filerldb2
E1201 22:42:38.941317 leveldb2_store.go:64 filer store open dir /d/f/00: resource unavailable
F1201 22:42:38.953668 configuration.go:26 failed to initialize store for leveldb2: unavailable
goroutine 1 [running]:
github.com/seaweedfs/seaweedfs/weed/glog.Fatalf(...)
E1201 22:42:39.000000 volume.go:1 after the fatal line, not the reason
"""


def test_the_fatal_line_is_the_reason(tmp_path: Path) -> None:
    log = tmp_path / "weed.log"
    log.write_text(LOCKED)
    assert _first_error(log) == "failed to initialize store for leveldb2: unavailable"


def test_without_a_fatal_line_the_last_error_and_else_nothing(tmp_path: Path) -> None:
    log = tmp_path / "weed.log"
    log.write_text("I1201 1 a.go:1 fine\nE1201 1 b.go:2 first\nE1201 1 c.go:3 \x1b[31mlast\n")
    assert _first_error(log) == "\\x1b[31mlast"
    log.write_text("I1201 22:42:38.9 a.go:1 all is well\n")
    assert _first_error(log) is None
    assert _first_error(tmp_path / "missing.log") is None
