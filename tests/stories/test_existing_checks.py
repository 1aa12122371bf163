"""Stories caught by the checks that predate the platform graph: names, references, capacity,
runtime contract and policy, each edited in the file a person would touch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_example
from tests.stories.story import Story, assert_caught, run_story, story_id

LLAMA = "fleet/llama-3-1-8b-instruct.yaml"
MIXTRAL = "fleet/mixtral-8x7b-instruct.yaml"

STORIES = (
    Story(
        "A model owner types a100 for the GPU pool, a pool no environment of the model has.",
        ((LLAMA, "  resources:\n    gpuPool: h100", "  resources:\n    gpuPool: a100"),),
        "validate",
        "FG202",
        LLAMA,
        "gpuPool: a100",
    ),
    Story(
        "A model owner misspells a tenant that the environments declare.",
        ((LLAMA, "{name: support, tokens: 500000", "{name: suport, tokens: 500000"),),
        "validate",
        "FG203",
        LLAMA,
        "name: suport",
    ),
    Story(
        "A model owner copies another model's served name, so the gateway routes one name twice.",
        ((MIXTRAL, "servedName: mixtral-8x7b-instruct", "servedName: llama-3.1-8b-instruct"),),
        "validate",
        "FG302",
        MIXTRAL,
        "servedName: llama-3.1-8b-instruct",
    ),
)


@pytest.mark.parametrize("story", STORIES, ids=story_id)
def test_the_mistake_is_caught(story: Story, tmp_path: Path) -> None:
    root = copy_example(tmp_path / "repo")
    assert_caught(root, story, run_story(root, story))
