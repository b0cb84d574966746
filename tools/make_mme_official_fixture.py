#!/usr/bin/env python3
"""Runs MME's own eval_tool/calculation.py on the MME test folder (Tests/MetricsTests/Fixtures/mme)
and writes what it prints into Tests/MetricsTests/Fixtures/mme_calculation.json, with the
versions and the script's sha256. The Metrics tests compare our MME scores with those printed totals.

calculation.py is not part of this repository and is never copied into it. It ships in
tools/eval_tool.zip of BradyFU/Awesome-Multimodal-Large-Language-Models (commit 1c1d69e1, the
tool linked from the Evaluation branch's README). To regenerate:

    pip install scikit-learn            # calculation.py imports sklearn.metrics
    unzip eval_tool.zip -d /some/folder/outside/the/repository
    python3 tools/make_mme_official_fixture.py /some/folder/outside/the/repository/eval_tool/calculation.py

The script is copied into a temporary folder and run there, as `python3 calculation.py
--results_dir <the test folder>`; only its standard output is kept (sklearn's warnings about
ill-defined precision go to standard error and do not change the scores).
"""
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "MetricsTests" / "Fixtures"


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/eval_tool/calculation.py")
    script = Path(sys.argv[1]).resolve()
    if ROOT in script.parents:
        sys.exit("keep calculation.py outside the repository")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "calculation.py"
        shutil.copy(script, copy)
        run = subprocess.run([sys.executable, str(copy), "--results_dir", str(FIXTURES / "mme")], cwd=folder,
                             capture_output=True, text=True, check=True)
    payload = {
        "versions": {
            "python": platform.python_version(),
            "scikit-learn": version("scikit-learn"),
            "calculation.py": "MME eval_tool/calculation.py from tools/eval_tool.zip of "
                              "BradyFU/Awesome-Multimodal-Large-Language-Models, commit 1c1d69e1",
            "calculation.py sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
            "made_by": "tools/make_mme_official_fixture.py",
        },
        "command": "python3 calculation.py --results_dir Tests/MetricsTests/Fixtures/mme",
        "stdout": run.stdout,
    }
    out = FIXTURES / "mme_calculation.json"
    out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    print(run.stdout)


if __name__ == "__main__":
    main()
