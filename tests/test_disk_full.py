"""The disk fills during a load, for real: the home sits on a small tmpfs (mounted in a private
user and mount namespace, `unshare -rm`, so no root is needed), filled to its last 16 KB. The
load fails loudly, the file it could not load stays in landing/ and is recorded nowhere; once
there is room, the next run loads it, and every file exactly once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import BIN

SCRIPT = r"""
set -u
mnt=$1/mnt out=$1/out
mkdir -p "$mnt" "$out"
mount -t tmpfs -o size=16m tmpfs "$mnt" || exit 90
cp -a "$1/home" "$mnt/home"
export SWPM_HOME=$mnt/home
manifest() {  # the manifest's file names (the tmpfs is gone once this script ends)
  "$PYTHON" -c 'import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps([r[0] for r in con.execute("SELECT file_name FROM meta.file_manifest WHERE status = $$loaded$$").fetchall()]))' \
    "$mnt/home/warehouse/swpm.duckdb"
}
swpm load --date 2006-01-01 > "$out/zero.log" 2>&1; echo $? > "$out/zero.rc"
avail=$(df --output=avail -B1 "$mnt" | tail -1)
fallocate -l $((avail - 16 * 1024)) "$mnt/filler"
swpm load > "$out/first.log" 2>&1; echo $? > "$out/first.rc"
ls "$mnt/home/landing" > "$out/landing_after_first"
manifest > "$out/manifest_after_first.json"
rm "$mnt/filler"
swpm load > "$out/second.log" 2>&1; echo $? > "$out/second.rc"
manifest > "$out/manifest_after_second.json"
cp "$mnt/home/archive/manifest.jsonl" "$out/"
"""


def _unshare_works() -> bool:
    if not shutil.which("unshare") or sys.platform != "linux":
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs $d && umount $d"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory, sample_landing):
    if not _unshare_works():
        pytest.skip("cannot mount a tmpfs in a user namespace here (unshare -rm)")
    root = tmp_path_factory.mktemp("diskfull")
    landing = root / "home" / "landing"
    landing.mkdir(parents=True)
    files = sorted(sample_landing.glob("clearance_*_2006010[12].csv.gz"))  # two nights, four files
    for f in files:
        shutil.copy2(f, landing / f.name)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", PYTHON=sys.executable)
    res = subprocess.run(["unshare", "-rm", "bash", "-c", SCRIPT, "script", str(root)], env=env, capture_output=True)
    assert res.returncode == 0, res.stderr.decode()[-3000:]
    out = root / "out"
    return [f.name for f in files], out


def _read(path):
    return json.loads(path.read_text())


def test_the_load_fails_loudly_and_the_file_stays_in_landing(full_disk):
    files, out = full_disk
    assert (out / "zero.rc").read_text().strip() == "0", (out / "zero.log").read_text()[-2000:]
    assert (out / "first.rc").read_text().strip() == "1"
    said = (out / "first.log").read_text().strip().splitlines()[-1]
    for words in (
        "No space left on device",
        "disk is full",
        "nothing of it was loaded or recorded",
        "stays in landing/",
    ):
        assert words in said, said
    failed = said.split("error: ", 1)[1].split(":", 1)[0]
    assert failed in files and failed not in _read(out / "manifest_after_first.json")
    assert failed in (out / "landing_after_first").read_text().split()


def test_once_there_is_room_the_next_run_loads_every_file_once(full_disk):
    files, out = full_disk
    assert (out / "second.rc").read_text().strip() == "0", (out / "second.log").read_text()[-2000:]
    assert sorted(_read(out / "manifest_after_second.json")) == files
    journal = []
    for line in (out / "manifest.jsonl").read_text().splitlines():
        try:
            journal.append(json.loads(line)["file_name"])
        except ValueError:
            pass  # a line the full disk cut short; its record is written again whole
    assert sorted(journal) == files, "the journal records every file once"
