"""Stories about base/ lists that the overlays patch by index (FG970), and base files that
stop being YAML: what a platform engineer does to the shared bases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Story, assert_caught, run_story, story_id

ISVC = "base/model/inferenceservice.yaml"
LLMISVC = "base/llmisvc/llminferenceservice.yaml"

STORIES = (
    Story(
        "A platform engineer inserts --enable-prefix-caching into the base args right after "
        "the served name, so the TP placeholder moves and the flag is overwritten.",
        (
            (
                ISVC,
                "      - --served-model-name=model\n",
                "      - --served-model-name=model\n      - --enable-prefix-caching\n",
            ),
        ),
        "rendered",
        "FG970",
        ISVC,
        "--enable-prefix-caching",
        also=frozenset({"FG711"}),  # the tracing placeholder moved too
    ),
    Story(
        "A platform engineer sorts the base args, swapping the TP and context-length placeholders.",
        (
            (
                ISVC,
                "      - --tensor-parallel-size=1\n      - --max-model-len=4096\n",
                "      - --max-model-len=4096\n      - --tensor-parallel-size=1\n",
            ),
        ),
        "rendered",
        "FG970",
        ISVC,
        "--max-model-len=4096",
    ),
    Story(
        "A platform engineer appends a flag after the base placeholders, which pushes the "
        "tracing endpoint the overlays fill at args/4 one place down.",
        (
            (
                ISVC,
                "      - --gpu-memory-utilization=0.9\n",
                "      - --gpu-memory-utilization=0.9\n      - --enable-prefix-caching\n",
            ),
        ),
        "rendered",
        "FG970",
        ISVC,
        "--enable-prefix-caching",
        also=frozenset({"FG711"}),  # and every model now traces to the placeholder endpoint
    ),
    Story(
        "A platform engineer puts a flag first in the LLMInferenceService base container args.",
        (
            (
                LLMISVC,
                "      args:\n      - --max-model-len=4096\n",
                "      args:\n      - --enable-prefix-caching\n      - --max-model-len=4096\n",
            ),
        ),
        "rendered",
        "FG970",
        LLMISVC,
        "--enable-prefix-caching",
        also=frozenset({"FG764"}),  # the overwritten slot leaves --gpu-memory-utilization twice
    ),
    Story(
        "A platform engineer removes the GPU memory placeholder from the base args: the "
        "overlays' replace of args/3 now overwrites the tracing flag's slot.",
        ((ISVC, "      - --gpu-memory-utilization=0.9\n", ""),),
        "rendered",
        "FG970",
        ISVC,
        "      - --served-model-name=model",  # the list starts here; its item is gone
        also=frozenset({"FG700", "FG711"}),
    ),
)


@pytest.mark.parametrize("story", STORIES, ids=story_id)
def test_the_mistake_is_caught(story: Story, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    assert_caught(root, story, run_story(root, story))
