"""The committed FlatBuffers code is exactly what `make flatbuffers` makes from the upstream
2.1.0 schemas: nobody edited the schemas or the generated code by hand."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

OPENSHOCK = Path(__file__).resolve().parents[2] / "gateways" / "openshock"
SCHEMAS = OPENSHOCK / "schemas"
WIRE = OPENSHOCK / "wire"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_committed_wire_code_is_what_the_recipe_generates(tmp_path: Path) -> None:
    # The same script as `make flatbuffers`. No flatc is a failure, not a skip: `make test`
    # installs it (infra/services/flatc.sh), and a skip would let an edit through.
    out = tmp_path / "wire"
    done = subprocess.run(
        ["bash", str(OPENSHOCK / "generate_wire.sh"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    generated, committed = _tree(out), _tree(WIRE)
    assert sorted(generated) == sorted(committed), "files differ: run `make flatbuffers`"
    edited = [name for name in generated if generated[name] != committed[name]]
    assert not edited, f"edited by hand (run `make flatbuffers`): {edited}"


def test_the_schemas_are_upstreams_2_1_0_files_byte_for_byte() -> None:
    # SOURCE.md lists each file's git blob id at the release commit; git hashes
    # "blob <size>\0<content>", so this needs no git and no network.
    listed = dict(
        re.findall(
            r"^\| `([^`]+\.fbs)` \| `([0-9a-f]{40})` \|$", (SCHEMAS / "SOURCE.md").read_text(), re.M
        )
    )
    present = {path.relative_to(SCHEMAS).as_posix() for path in SCHEMAS.rglob("*.fbs")}
    assert present == set(listed)
    for name, blob in listed.items():
        content = (SCHEMAS / name).read_bytes()
        digest = hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False)
        assert digest.hexdigest() == blob, name
