"""Agent and desktop settings: flags over the environment over settings.json over the
defaults, resolved in forge_desktop/settings.py alone (a real file, a real environment)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forge_desktop.settings import Settings, SettingsError, admin_hub_url, bearer_token
from forge_desktop.worker import worker_options


@pytest.fixture
def settings_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FORGE_DATA_DIR", str(tmp_path / "forge"))
    for name in ("CENTRAL_URL", "NODE_ID", "FORGE_DESKTOP_HUB_PORT", "FORGE_WORKER_TYPES", "BEARER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    f = tmp_path / "forge" / "config" / "settings.json"
    f.parent.mkdir(parents=True)
    return f


def test_flags_win_over_the_environment_which_wins_over_the_file_which_wins_over_defaults(settings_file):
    settings_file.write_text(json.dumps({"hub_url": "http://file:3000", "node_id": "from-file",
                                         "hub_port": 3100, "push_interval_s": 2.0, "job_types": ["jobshop"]}))
    env = {"CENTRAL_URL": "http://env:3000", "NODE_ID": "from-env", "FORGE_DESKTOP_HUB_PORT": "3200",
           "FORGE_WORKER_TYPES": "sleep, mps"}
    s = Settings.resolve(env=env, hub_url="http://flag:3000", jobs="always", max_cores=None)
    assert s.hub_url == "http://flag:3000"           # flag over env over file
    assert s.node_id == "from-env"                   # env over file
    assert s.hub_port == 3200 and s.job_types == ["sleep", "mps"]
    assert s.push_interval_s == 2.0                  # file over default
    assert s.jobs == "always"                        # flag over default
    assert s.max_cores == 0 and s.sample_interval_s == 1.0  # a flag not given (None) leaves the default
    assert worker_options(s).types == ["sleep", "mps"]


def test_an_empty_environment_variable_leaves_the_file_value(settings_file):
    settings_file.write_text(json.dumps({"hub_url": "http://file:3000", "node_id": "from-file"}))
    s = Settings.resolve(env={"CENTRAL_URL": "", "NODE_ID": "  "})
    assert (s.hub_url, s.node_id) == ("http://file:3000", "from-file")


def test_the_process_environment_is_the_default(settings_file, monkeypatch):
    monkeypatch.setenv("NODE_ID", "from-os-env")
    assert Settings.resolve().node_id == "from-os-env"
    assert Settings.load().node_id == ""  # load() is the file alone


def test_resolving_never_writes_the_environment_or_flags_into_the_file(settings_file):
    settings_file.write_text(json.dumps({"hub_url": "http://file:3000"}))
    s = Settings.resolve(env={"CENTRAL_URL": "http://env:3000"}, node_id="flag")
    assert json.loads(settings_file.read_text()) == {"hub_url": "http://file:3000"}
    assert s.hub_url == "http://env:3000"


@pytest.mark.parametrize("env, message", [
    ({"FORGE_DESKTOP_HUB_PORT": "http"}, "FORGE_DESKTOP_HUB_PORT must be a TCP port number, not 'http'"),
    ({"FORGE_DESKTOP_HUB_PORT": "70000"}, "FORGE_DESKTOP_HUB_PORT must be between 1 and 65535, not 70000"),
])
def test_a_bad_environment_value_is_a_clear_error(settings_file, env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.resolve(env=env)


def test_bad_file_values_and_flags_are_clear_errors(settings_file):
    settings_file.write_text("{not json")
    with pytest.raises(SettingsError, match="settings.json is not valid JSON"):
        Settings.resolve(env={})
    settings_file.write_text(json.dumps({"jobs": "sometimes"}))
    with pytest.raises(SettingsError, match="jobs mode must be one of idle, always, never"):
        Settings.resolve(env={})
    settings_file.write_text("{}")
    with pytest.raises(SettingsError, match="intervals must be positive"):
        Settings.resolve(env={}, push_interval_s=0.0)
    with pytest.raises(TypeError, match="unknown settings: hub"):
        Settings.resolve(env={}, hub="http://x")


def test_secrets_come_from_the_flag_then_the_environment_never_the_file(settings_file):
    settings_file.write_text(json.dumps({"token": "in-the-file", "hub_url": "http://file:3000"}))
    assert bearer_token(None, env={}) is None
    assert bearer_token(None, env={"BEARER_TOKEN": "env"}) == "env"
    assert bearer_token("flag", env={"BEARER_TOKEN": "env"}) == "flag"
    assert not hasattr(Settings.resolve(env={}), "token")
    # The admin commands default to this machine's hub, not the agent's saved one.
    assert admin_hub_url(None, env={}) == "http://127.0.0.1:3000"
    assert admin_hub_url(None, env={"CENTRAL_URL": "http://env:3000"}) == "http://env:3000"


def test_forge_agent_uses_the_flag_over_env_over_file(settings_file, tmp_path):
    """The real command: with no token anywhere it says which hub and node it resolved."""
    settings_file.write_text(json.dumps({"hub_url": "http://127.0.0.1:7", "node_id": "from-file"}))
    env = dict(os.environ, FORGE_DATA_DIR=str(tmp_path / "forge"), NODE_ID="from-env",
               CENTRAL_URL="http://127.0.0.1:8", PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("BEARER_TOKEN", None)

    def agent(*flags: str) -> str:
        out = subprocess.run([sys.executable, "-P", "-m", "forge_desktop.cli", "agent", *flags], env=env,
                             capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert out.returncode == 2, out
        return out.stderr
    assert "no token for node 'from-env' at http://127.0.0.1:8" in agent()
    assert "no token for node 'cli' at http://127.0.0.1:9" in agent("--hub", "http://127.0.0.1:9", "--node-id", "cli")
    del env["CENTRAL_URL"], env["NODE_ID"]
    assert "no token for node 'from-file' at http://127.0.0.1:7" in agent()


def test_every_setting_and_its_environment_variable_is_in_config_md():
    from dataclasses import fields
    text = (Path(__file__).parent.parent / "docs" / "CONFIG.md").read_text()
    section = text[text.index("## Agent and desktop settings"):]
    missing = [f"{f.name} ({f.metadata['env']})" for f in fields(Settings)
               if f"`{f.name}`" not in section or (f.metadata["env"] and f"`{f.metadata['env']}`" not in section)]
    assert not missing, f"settings missing from docs/CONFIG.md: {missing}"
