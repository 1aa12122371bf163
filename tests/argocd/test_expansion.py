"""The expansion's semantics, each pinned to what Argo CD v3.5 does (the source it follows is
named in the module under test): Go template printing and errors, the git files generator's
parameters, values, flat (non-Go) templates, and the glob dialects."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetgen.argocd import gotemplate
from fleetgen.argocd.documents import read_documents
from fleetgen.argocd.expand import RepoFiles, expand
from fleetgen.argocd.glob import git_pathspec, glob_match, path_match

STRICT = gotemplate.Options(missing_key_error=True)
LAX = gotemplate.Options()
DATA = {
    "app": "a1",
    "replicas": 1000000.0,  # JSON numbers arrive as float64
    "ratio": 0.5,
    "on": True,
    "path": {"path": "apps/x", "segments": ["apps", "x"]},
    "values": {"tier": "prod"},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ .app }}", "a1"),
        ("{{.app}}-{{ .values.tier }}", "a1-prod"),
        ("{{ .replicas }}", "1e+06"),  # fmt %v of float64(1000000)
        ("{{ .ratio }}", "0.5"),
        ("{{ .on }}", "true"),
        ("{{ index .path.segments 1 }}", "x"),
        ("{{ .path.segments }}", "[apps x]"),
        ("{{ .values }}", "map[tier:prod]"),
        ("a {{- .app -}} b", "a1"[0:0] + "aa1b"),
        ("{{ .app | upper }}", "A1"),
        ('{{ printf "%s/%s" .path.path .app }}', "apps/x/a1"),
        ("{{ (index .path.segments 0) | upper }}", "APPS"),
        ("{{/* a comment */}}{{ .app }}", "a1"),
        ('{{ .app | replace "1" "2" }}', "a2"),
        ('{{ normalize "My_App" }}', "my-app"),
        ("no action", "no action"),
    ],
)
def test_go_template_prints_as_go_does(template: str, expected: str) -> None:
    assert gotemplate.render(template, DATA, STRICT) == expected


def test_missing_keys_follow_the_missingkey_option() -> None:
    with pytest.raises(gotemplate.TemplateError, match="map has no entry for key 'nope'"):
        gotemplate.render("{{ .nope }}", DATA, STRICT)
    assert gotemplate.render("{{ .nope }}", DATA, LAX) == "<no value>"
    assert gotemplate.render("{{ .nope.deeper }}", DATA, LAX) == "<no value>"
    with pytest.raises(gotemplate.TemplateError, match="can't evaluate field x in type string"):
        gotemplate.render("{{ .app.x }}", DATA, STRICT)
    # index of a missing map key is the zero value, even under missingkey=error
    assert gotemplate.render('{{ index .values "none" }}', DATA, STRICT) == "<no value>"
    with pytest.raises(gotemplate.TemplateError, match="index out of range: 5"):
        gotemplate.render("{{ index .path.segments 5 }}", DATA, STRICT)


@pytest.mark.parametrize(
    "template",
    [
        "{{ if .app }}x{{ end }}",
        "{{ range .path.segments }}{{ . }}{{ end }}",
        "{{ sha256sum .app }}",
        "{{ $x := 1 }}",
    ],
)
def test_constructs_outside_the_subset_are_unsupported(template: str) -> None:
    with pytest.raises(gotemplate.Unsupported):
        gotemplate.render(template, DATA, STRICT)


def test_parse_errors_are_template_errors() -> None:
    for broken in ("{{ .app ", "{{ }}", "{{ .app ) }}"):
        with pytest.raises(gotemplate.TemplateError):
            gotemplate.render(broken, DATA, STRICT)


def test_globs() -> None:
    # git ls-files pathspecs: '*' crosses '/' (the generator's default, greedy globbing)
    assert git_pathspec("apps/*/app.json", "apps/a/app.json")
    assert git_pathspec("apps/*/app.json", "apps/a/b/app.json")
    assert not git_pathspec("apps/*/app.json", "apps/a/app.yaml")
    assert git_pathspec("apps", "apps/a/app.json")  # a directory lists what is under it
    # filepath.Match: '*' stops at '/'
    assert path_match("*", "Deployment") and not path_match("a/*", "a/b/c")
    assert path_match("serving.*", "serving.kserve.io")
    # gobwas globs with '!' deny patterns
    assert glob_match("https://*.example.com", "https://prod-a.k8s.example.com")
    assert not glob_match("!llm", "llm") and glob_match("!llm", "other")
    assert glob_match("llm-{dev,prod}", "llm-prod") and not glob_match("llm-{dev,prod}", "llm-qa")


def _repo(tmp_path: Path, appset: dict[str, object], files: dict[str, str]) -> RepoFiles:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "set.yaml").write_text(yaml.safe_dump(appset))
    return RepoFiles.scan(tmp_path, ["https://git.example.com/r.git"])


def _appset(template: dict[str, object], **spec: object) -> dict[str, object]:
    git = {"repoURL": "https://git.example.com/r.git", "revision": "main"}
    git.update(spec.pop("git", {}))  # type: ignore[arg-type]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "s", "namespace": "argocd"},
        "spec": {"generators": [{"git": git}], "template": template, **spec},
    }


def test_git_files_generator_parameters(tmp_path: Path) -> None:
    template = {
        "metadata": {"name": "{{ .name }}-{{ .path.basenameNormalized }}"},
        "spec": {
            "project": "p",
            "source": {"path": "{{ .path.path }}", "repoURL": "x"},
            "destination": {"namespace": "{{ .values.ns }}-{{ .path.filename }}"},
            "info": "{{ index .path.segments 0 }}:{{ .count }}",
        },
    }
    appset = _appset(
        template,
        goTemplate=True,
        goTemplateOptions=["missingkey=error"],
        git={
            "files": [{"path": "apps/*/cfg.json"}, {"path": "apps/skip/*", "exclude": True}],
            "values": {"ns": "team-{{ .name }}"},
        },
        syncPolicy={"preserveResourcesOnDeletion": False},
    )
    repo = _repo(
        tmp_path,
        appset,
        {
            "apps/My_A/cfg.json": '{"name": "a", "count": 3}',
            "apps/b/cfg.json": '[{"name": "b1", "count": 1}, {"name": "b2", "count": 2}]',
            "apps/skip/cfg.json": '{"name": "never"}',
        },
    )
    (doc,) = read_documents(tmp_path, "set.yaml")
    result = expand(doc, repo)
    assert result.diagnostics == []
    got = [(a.name, a.spec["destination"]["namespace"], a.spec["info"]) for a in result.apps]
    assert got == [
        ("a-my-a", "team-a-cfg.json", "apps:3"),
        ("b1-b", "team-b1-cfg.json", "apps:1"),
        ("b2-b", "team-b2-cfg.json", "apps:2"),
    ]
    first = result.apps[0]
    assert first.namespace == "argocd"
    assert first.data["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert first.params_file == "apps/My_A/cfg.json"


def test_flat_templates_substitute_strings_only(tmp_path: Path) -> None:
    template = {
        "metadata": {"name": "{{path.basename}}-{{ nested.key }}-{{path[1]}}-{{missing}}"},
        "spec": {"project": "p"},
    }
    repo = _repo(
        tmp_path,
        _appset(template, git={"files": [{"path": "apps/*/cfg.yaml"}]}),
        {"apps/one/cfg.yaml": "nested:\n  key: v\n"},
    )
    (doc,) = read_documents(tmp_path, "set.yaml")
    (app,) = expand(doc, repo).apps
    assert app.name == "one-v-one-{{missing}}"


def test_a_failing_parameter_set_stops_the_whole_set(tmp_path: Path) -> None:
    template = {"metadata": {"name": "{{ .name }}"}, "spec": {"project": "p"}}
    repo = _repo(
        tmp_path,
        _appset(
            template,
            goTemplate=True,
            goTemplateOptions=["missingkey=error"],
            git={"files": [{"path": "apps/*.json"}]},
        ),
        {"apps/a.json": '{"name": "a"}', "apps/b.json": "{}"},
    )
    (doc,) = read_documents(tmp_path, "set.yaml")
    result = expand(doc, repo)
    assert result.apps == []
    (found,) = result.diagnostics
    assert found.code == "FG720"
    assert "apps/b.json" in found.message
    assert found.location.file == "set.yaml"
