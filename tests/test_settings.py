"""Settings: one typed definition, precedence, clear errors, and a README that cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import SETTING_FIELDS, SettingsError, load_settings
from app.settings_doc import markdown_table
from app.web.board_app import RELOADABLE

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_settings_table_matches_the_definition():
    text = README.read_text()
    match = re.search(r"<!-- settings:start[^>]*-->\n(.*?)<!-- settings:end -->", text, re.S)
    assert match, "README.md lost its settings markers"
    assert match.group(1) == markdown_table(), "run `python -m app.settings_doc` into README.md"


def test_every_setting_has_help():
    for f in SETTING_FIELDS:
        assert len(str(f.metadata.get("help", ""))) > 10, f.name


def test_explicit_beats_environment_beats_file_beats_default(tmp_path):
    config = tmp_path / "dash.toml"
    config.write_text('bind = "127.0.0.1:7000"\nstale_after_seconds = 60\nfr_warning_hours = 8\n')
    env = {"TICKET_DASH_STALE_AFTER_SECONDS": "120", "TICKET_DASH_FR_WARNING_HOURS": "9"}
    s = load_settings({"fr_warning_hours": 10}, environ=env, config_path=config)
    assert s.bind == "127.0.0.1:7000"  # file
    assert s.stale_after_seconds == 120  # environment over file
    assert s.fr_warning_hours == 10  # explicit over environment
    assert s.fr_critical_hours == 4  # default


def test_config_file_can_come_from_the_environment(tmp_path):
    config = tmp_path / "dash.toml"
    config.write_text('tickets_dir = "/srv/tickets"\n')
    s = load_settings(environ={"TICKET_DASH_CONFIG": str(config)})
    assert s.tickets_dir == Path("/srv/tickets")


def test_tables_and_lists_come_from_json_in_the_environment():
    s = load_settings(environ={"TICKET_DASH_STATUS_SECTIONS": '{"2": "open", "9": "waiting"}'})
    assert s.status_sections == {"2": "open", "9": "waiting"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TICKET_DASH_STALE_AFTER_SECONDS": "soon"}, "TICKET_DASH_STALE_AFTER_SECONDS"),
        ({"TICKET_DASH_WATCH_FORCE_POLLING": "maybe"}, "not a boolean"),
        ({"TICKET_DASH_STATUS_SECTIONS": '{"2": "later"}'}, "use one of"),
        ({"TICKET_DASH_FR_CRITICAL_HOURS": "20"}, "fr_critical_hours"),
        ({"TICKET_DASH_HEARTBEAT_SECONDS": "-5"}, "heartbeat_seconds"),
        ({"TICKET_DASH_HEARTBEAT_SECONDS": "0"}, "heartbeat_seconds"),
        ({"TICKET_DASH_STALE_AFTER_SECONDS": "0"}, "stale_after_seconds"),
    ],
)
def test_bad_values_name_the_setting_and_where_it_came_from(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=env)


def test_a_file_nested_absurdly_deep_is_a_clear_error(tmp_path):
    config = tmp_path / "dash.toml"
    config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SettingsError, match="nests arrays or tables too deeply"):
        load_settings(environ={}, config_path=config)


def test_unknown_key_in_the_file_is_refused(tmp_path):
    config = tmp_path / "dash.toml"
    config.write_text("stale_afer_seconds = 5\n")
    with pytest.raises(SettingsError, match=r"unknown setting.*stale_afer_seconds"):
        load_settings(environ={}, config_path=config)


def test_link_base_defaults_to_the_freshservice_agent_ui():
    s = load_settings(environ={"TICKET_DASH_FRESHSERVICE_DOMAIN": "acme.freshservice.com"})
    assert s.ticket_link_base == "https://acme.freshservice.com/a/tickets/"
    custom = load_settings(
        environ={"TICKET_DASH_LINK_BASE": "https://help.acme.com/helpdesk/tickets/"}
    )
    assert custom.ticket_link_base == "https://help.acme.com/helpdesk/tickets/"


def test_deploy_md_names_every_setting_a_reload_takes():
    deploy = (README.parent / "docs" / "deploy.md").read_text()
    reload = deploy[deploy.index("**Reload.**") : deploy.index("## 10. Updating")]
    named = set(re.findall(r"`([a-z_]+)`", reload))
    assert sorted(RELOADABLE - named) == []
