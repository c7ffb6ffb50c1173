"""Settings: where they come from (file, environment, command line) and what is refused."""
from __future__ import annotations

from pathlib import Path

import pytest

from vigil.cli._common import settings_from
from vigil.errors import ConfigError
from vigil.settings import ENV, Settings, load_settings


def _yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}) == Settings()


@pytest.mark.parametrize(("text", "why"), [
    ("nonsense: 1\n", "nonsense"),  # unknown keys are refused by name, at any depth
    ("sessions:\n  inactivity_gap_minute: 30\n", "sessions.inactivity_gap_minute"),
    ("detections:\n  disabled: []\n  surprise: true\n", "detections.surprise"),
    ("store: [\n", "not valid YAML"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("sessions:\n  inactivity_gap_minutes: soon\n", "sessions.inactivity_gap_minutes"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, text: str, why: str) -> None:
    cfg = _yaml(tmp_path / "vigil.yaml", text)
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, environ={})
    assert why in str(exc.value) and str(cfg) in str(exc.value)


def test_unknown_dotted_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="store.nope"):
        load_settings(overrides={"store.nope": 1}, environ={})


def test_missing_config_file_is_an_error_not_defaults(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.yaml", environ={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(environ={"VIGIL_CONFIG": str(tmp_path / "absent.yaml")})


def test_config_file_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--config, else $VIGIL_CONFIG, else ./vigil.yaml."""
    monkeypatch.chdir(tmp_path)
    _yaml(tmp_path / "vigil.yaml", "store:\n  path: from-cwd.duckdb\n")
    env_cfg = _yaml(tmp_path / "env.yaml", "store:\n  path: from-env-config.duckdb\n")
    flag_cfg = _yaml(tmp_path / "flag.yaml", "store:\n  path: from-flag.duckdb\n")
    assert load_settings(environ={}).store.path == "from-cwd.duckdb"
    assert load_settings(environ={"VIGIL_CONFIG": str(env_cfg)}).store.path == "from-env-config.duckdb"
    assert load_settings(flag_cfg, environ={"VIGIL_CONFIG": str(env_cfg)}).store.path == "from-flag.duckdb"


def test_environment_beats_the_file_and_the_command_line_beats_both(tmp_path: Path) -> None:
    cfg = _yaml(tmp_path / "vigil.yaml", "store:\n  path: file.duckdb\nservice:\n  port: 1111\n")
    env = {"VIGIL_DB": "env.duckdb", "VIGIL_SERVICE_PORT": "2222"}
    s = load_settings(cfg, environ=env)
    assert (s.store.path, s.service.port) == ("env.duckdb", 2222)  # environment values are parsed too
    s = load_settings(cfg, overrides={"store.path": "flag.duckdb"}, environ=env)
    assert (s.store.path, s.service.port) == ("flag.duckdb", 2222)
    # an empty variable is unset, not an empty path
    assert load_settings(cfg, environ={"VIGIL_DB": ""}).store.path == "file.duckdb"


def test_every_environment_variable_reaches_its_setting(tmp_path: Path) -> None:
    values = {"VIGIL_SERVICE_PORT": "8123"}
    for var, dotted in ENV.items():
        want = values.get(var, str(tmp_path / var.lower()))
        node: object = load_settings(environ={var: want})
        for key in dotted.split("."):
            node = getattr(node, key)
        got = node.get_secret_value() if hasattr(node, "get_secret_value") else node
        assert str(got) == want, var


def test_cli_options_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the commands do with --db / --config and $VIGIL_DB / $VIGIL_CONFIG."""
    monkeypatch.chdir(tmp_path)
    cfg = _yaml(tmp_path / "other.yaml", "store:\n  path: other.duckdb\n")
    monkeypatch.delenv("VIGIL_CONFIG", raising=False)
    monkeypatch.setenv("VIGIL_DB", "env.duckdb")
    assert settings_from(None, None).store.path == "env.duckdb"
    assert settings_from("flag.duckdb", None).store.path == "flag.duckdb"
    assert settings_from(None, str(cfg)).store.path == "env.duckdb"  # the variable still beats the file
    monkeypatch.delenv("VIGIL_DB")
    assert settings_from(None, str(cfg)).store.path == "other.duckdb"
    monkeypatch.setenv("VIGIL_CONFIG", str(cfg))
    assert settings_from(None, None).store.path == "other.duckdb"
