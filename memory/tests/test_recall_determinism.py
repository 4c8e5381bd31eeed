"""Recall ranks the same way in every process, whatever Python's hash seed."""

import subprocess
import sys

from django.conf import settings

SCRIPT = """
import random
import django
django.setup()
from memory.recall import _bm25
rng = random.Random(7)
vocabulary = [f"word{i}" for i in range(40)] + ["celebration", "celebrate", "adoption", "adopted"]
docs = [[rng.choice(vocabulary) for _ in range(rng.randint(3, 30))] for _ in range(300)]
query = set(rng.sample(vocabulary, 12)) | {"celebrate", "adopted"}
print(repr(_bm25(query, docs)))
"""


def test_scores_do_not_depend_on_the_hash_seed():
    runs = {
        subprocess.run(
            [sys.executable, "-c", SCRIPT],
            env={"PYTHONHASHSEED": str(seed), "DJANGO_SETTINGS_MODULE": "mybella.settings"},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(runs) == 1
