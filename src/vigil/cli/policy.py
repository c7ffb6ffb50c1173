"""``vigil policy``: check Graph conditional-access policies, what-if one sign-in, replay history."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, settings_from, store_from
from vigil.cli._table import Col, plural, show
from vigil.errors import InputError

PoliciesOpt = Annotated[list[str], typer.Option(
    "--policies", help="Graph conditionalAccessPolicy JSON (repeatable; default: policy.policies, else the "
    "store's ca_policies from `vigil policy load`)")]
LocationsOpt = Annotated[str | None, typer.Option(
    "--locations", help="Graph namedLocation JSON (default: policy.named_locations / enrich.named_locations)")]
LenientOpt = Annotated[bool, typer.Option(
    "--allow-unresolved", help="evaluate policies naming locations that are not loaded (they never match)")]


def _policy_set(settings: Any, policies: list[str], locations: str | None, lenient: bool) -> Any:
    """From the files given, else settings policy.policies, else the store's ca_policies."""
    from vigil.policy.decision import load_policy_set

    lenient = lenient or settings.policy.allow_unresolved_locations
    files = list(policies) or ([settings.policy.policies] if settings.policy.policies else [])
    if not files:
        from vigil.policy import tables

        if not Path(settings.store.path).exists():
            raise InputError("no policies: pass --policies FILE (or set policy.policies, or `vigil policy load`)")
        with store_from(settings, read_only=True) as store:
            return tables.load(store, mfa_trusted_ips=settings.policy.mfa_trusted_ips, allow_unresolved=lenient)
    locs = locations or settings.policy.named_locations or settings.enrich.named_locations
    return load_policy_set(files, locs, mfa_trusted_ips=settings.policy.mfa_trusted_ips, allow_unresolved=lenient)


def _render_check(rows: list[dict[str, Any]]) -> None:
    show([{**r, "conditions": "; ".join(r["conditions"])} for r in rows],
         [Col("displayName", "policy", 0), Col("state", "state", 1), Col("conditions", "conditions", 4),
          Col("grant", "grant", 2), Col("session", "session", 3)],
         title=plural(len(rows), "conditional access policy", "conditional access policies"))


def _summary(p: Any) -> dict[str, Any]:
    c = p.conditions
    parts = []
    if c.users is not None:
        u = c.users
        parts.append("users " + "+".join(sorted(u.include_users)) + (f" +{len(u.include_groups)} groups"
                     if u.include_groups else "") + (f" +{len(u.include_roles)} roles" if u.include_roles else "")
                     + (f" -{len(u.exclude_users | u.exclude_groups | u.exclude_roles)} excluded"
                        if u.exclude_users or u.exclude_groups or u.exclude_roles else ""))
    if c.applications is not None:
        a = c.applications
        parts.append("apps " + ",".join(sorted(a.include_applications | a.include_user_actions
                                               | a.include_auth_context)))
    for label, value in (("client", c.client_app_types), ("sign-in risk", c.sign_in_risk_levels),
                         ("user risk", c.user_risk_levels)):
        if value:
            parts.append(f"{label} {','.join(sorted(value))}")
    if c.locations is not None:
        parts.append(f"locations {len(c.locations.include_locations)} in/{len(c.locations.exclude_locations)} out")
    if c.platforms is not None:
        parts.append("platforms " + ",".join(sorted(c.platforms.include_platforms)))
    if c.devices is not None and c.devices.device_filter is not None:
        parts.append(f"device filter ({c.devices.device_filter.mode})")
    g = p.grant_controls
    grant = f" {g.operator} ".join(g.control_names()) if g else "-"
    session = p.session_controls.enforced_names() if p.session_controls else []
    return {"id": p.id, "displayName": p.display_name, "state": p.state, "conditions": parts, "grant": grant,
            "session": session, "source": p.source}


def _render_whatif(result: dict[str, Any]) -> None:
    d = result["decision"]
    color = {"allow": "green", "challenge": "yellow", "block": "red"}[d["decision"]]
    console.print(f"[bold {color}]{d['decision'].upper()}[/] ({d['conditionalAccessStatus']}): {d['reason']}")
    if d["requiredControls"]:
        console.print("required controls: " + ", ".join(d["requiredControls"]))
    if d["sessionControls"]:
        console.print(f"session controls: {d['sessionControls']}")
    risk = result.get("risk")
    if risk:
        si, ur = risk["signInRisk"], risk["userRisk"]
        console.print(f"sign-in risk {si['level']} ({si['source']}); user risk {ur['level']} ({ur['source']}"
                      + (f", {ur['state']}" if ur.get("state") else "") + ")")
        for sig in risk["signals"]:
            console.print(f"  {sig['riskEventType']} {sig['riskLevel']} (realtime): {sig['reason']}")
    show(result["value"], [Col("displayName", "policy", 0), Col("state", "state", 3),
                           Col("policyApplies", "applies", 1), Col("analysisReasons", "analysisReasons", 5),
                           Col("result", "result", 2), Col("reason", "reason", 4)])


def _pair(d: dict[str, Any], key: str) -> str:
    return f"{d.get(key + '_signins', 0)} / {d.get(key + '_users', 0)}"


def _render_replay(report: dict[str, Any]) -> None:
    labels = report.get("labels") is not None
    states = {"enabled": "on", "disabled": "off", "enabledForReportingButNotEnforced": "report-only"}
    keys = ("applies", "mfa", "password_change", "risk_remediation", "blocked")
    rows = []
    for p in report["policies"]:
        row = {"policy": p["displayName"], "state": states[p["state"]], **{k: _pair(p, k) for k in keys}}
        if labels:
            stopped = sum(p.get(f"{k}_attack_events", 0) for k in ("mfa", "password_change", "risk_remediation",
                                                                    "blocked"))
            row["attacks"] = f"{stopped} / {p.get('attack_events', 0)}"
        rows.append(row)
    tot = report["total"]
    row = {"policy": "all policies together", "state": "", "applies": f"{tot['signins']} / {tot['users']}",
           **{k: _pair(tot, k) for k in keys[1:]}}
    if labels:
        row["attacks"] = f"{tot.get('attack_events_stopped', 0)} / {tot.get('attack_events', 0)}"
    rows.append(row)
    cols = [Col("policy", "policy", 0, min_width=22), Col("state", "state", 6), Col("applies", "applies", 3),
            Col("mfa", "MFA", 2), Col("password_change", "password", 5), Col("risk_remediation", "remediate", 7),
            Col("blocked", "blocked", 1, justify="right")]
    if labels:
        cols.append(Col("attacks", "attacks stopped", 4, justify="right"))
    show(rows, [c if c.key in ("policy", "state") else Col(c.key, c.header, c.priority, justify="right", ident=True)
                for c in cols],
         title=f"What-if over {report['signins']} sign-ins of {report['users']} users "
               f"({report['combinations']} distinct combinations, {report['seconds']} s)")
    console.print("[dim]cells are sign-ins / users (attacks: labelled attack sign-ins stopped / the policy applied "
                  "to); MFA counts prompts, not sign-ins already carrying an MFA claim; password = secure password "
                  "change; remediate = risk remediation; report-only policies are enforced in a replay[/dim]")
    failed = tot.get("failed_first_factor_signins", 0)
    if failed:
        extra = (f", {tot['attack_failed_first_factor']} of them labelled attacks"
                 if "attack_failed_first_factor" in tot else "")
        console.print(f"[dim]{failed} sign-ins failed the first factor and never reach conditional access{extra}[/dim]")
    for key, value in report["inputs"].items():
        console.print(f"[dim]input {key}: {value}[/dim]")
    for note in report.get("notes", []):
        console.print(f"[yellow]{note}[/yellow]")


_METRICS = (("signins", "sign-ins replayed"), ("mfa_signins", "MFA prompts (sign-ins)"),
            ("mfa_users", "MFA prompts (users)"), ("password_change_signins", "password change (sign-ins)"),
            ("password_change_users", "password change (users)"),
            ("risk_remediation_signins", "risk remediation (sign-ins)"), ("blocked_signins", "blocked (sign-ins)"),
            ("blocked_users", "blocked (users)"), ("failed_first_factor_signins", "failed first factor (no CA)"),
            ("attack_events", "attack sign-ins (labelled)"), ("attack_events_stopped", "attack sign-ins stopped"),
            ("attack_failed_first_factor", "attack sign-ins failed first factor"))


def comparison(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label in _METRICS:
        if key not in a["total"] and key not in b["total"]:
            continue
        va, vb = a["total"].get(key, 0), b["total"].get(key, 0)
        rows.append({"metric": label, "key": key, "a": va, "b": vb, "delta": vb - va})
    return rows


def _render_compare(data: dict[str, Any]) -> None:
    _render_replay(data["a"])
    _render_replay(data["b"])
    console.print(f"A = {data['a_name']}\nB = {data['b_name']}")
    show([{**r, "delta": f"{r['delta']:+d}"} for r in data["comparison"]],
         [Col("metric"), Col("a", "A"), Col("b", "B"), Col("delta", "B - A", justify="right")], title="Side by side")


def _device(device_id: str | None, compliant: bool | None, managed: bool | None, trust: str | None,
            attrs: list[str], os_name: str | None) -> dict[str, Any]:
    from vigil.policy.devicefilter import device_attributes

    extra: dict[str, Any] = {}
    for item in attrs:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--device-attr {item!r}: expected NAME=VALUE, e.g. extensionAttribute1=SAW")
        extra[key.strip()] = value
    if (attrs or compliant is not None or managed is not None or trust) and not device_id:
        raise InputError("device options need --device-id: an unregistered device has no attributes "
                         "(every filter property is null)")
    try:
        return device_attributes(device_id=device_id, is_compliant=compliant, is_managed=managed,
                                 trust_type=trust, operating_system=os_name, **extra)
    except ValueError as exc:
        raise InputError(f"--device-attr: {exc}") from None


def _directory_for(settings: Any, user: str) -> tuple[list[str], list[str], str | None]:
    """Groups, roles and user type of ``user`` from the store's directory tables, when there is a store."""
    if not Path(settings.store.path).exists():
        return [], [], None
    from vigil.policy.replay_sql import inputs_available, users_directory

    with store_from(settings, read_only=True) as store:
        table, _ = users_directory(store, inputs_available(store))
    if table is None:
        return [], [], None
    import orjson

    for row in table.to_pylist():
        if row["k"] == user.lower():
            return orjson.loads(row["groups"]), orjson.loads(row["roles"]), row["dir_user_type"]
    return [], [], None


def register(app: typer.Typer) -> None:
    pol = typer.Typer(help="Conditional access: check Graph policies, what-if a sign-in, replay history.",
                      no_args_is_help=True)
    app.add_typer(pol, name="policy")

    @pol.command("load")
    def load_cmd(policies: PoliciesOpt = [], locations: LocationsOpt = None,  # noqa: B006
                 allow_unresolved: LenientOpt = False,
                 db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Validate policies and named locations and store them (ca_policies, named_locations), replacing
        what was stored before. --locations alone replaces the named locations and keeps the stored policies
        (corporate egress takes trusted IP locations from the store: no setting needed)."""
        from vigil.policy import tables

        if not policies and not locations:
            raise InputError("pass --policies FILE (Graph conditionalAccessPolicy JSON), --locations FILE "
                             "(Graph namedLocation JSON), or both")
        settings = settings_from(db, config)
        if not policies:
            from vigil.locations.named import load_named_locations
            from vigil.policy.evaluate import PolicySet

            locs = load_named_locations(locations or "")
            lenient = allow_unresolved or settings.policy.allow_unresolved_locations
            with store_from(settings) as store:
                ps = PolicySet(tables.stored_policies(store), locs, mfa_trusted_ips=settings.policy.mfa_trusted_ips,
                               allow_unresolved=lenient)  # the stored policies still resolve their locations
                counts = tables.save(store, ps, locations_only=True)
            emit(counts, as_json=json, render=lambda c: console.print(
                f"stored {c['named_locations']} named locations"
                + (f"; the {c['policies']} stored policies kept" if c["policies"] else "")))
            return
        ps = _policy_set(settings, policies, locations, allow_unresolved)
        with store_from(settings) as store:
            counts = tables.save(store, ps)
        emit(counts, as_json=json, render=lambda c: console.print(
            f"stored {c['policies']} policies and {c['named_locations']} named locations"))

    @pol.command("check")
    def check(policies: PoliciesOpt = [], locations: LocationsOpt = None,  # noqa: B006
              allow_unresolved: LenientOpt = False,
              db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Load and validate policies (unknown properties are rejected with their JSON path)."""
        settings = settings_from(db, config)
        ps = _policy_set(settings, policies, locations, allow_unresolved)
        emit([_summary(p) for p in ps.policies], as_json=json, render=_render_check)

    @pol.command("whatif")
    def whatif_cmd(
        user: Annotated[str, typer.Option("--user", help="user object id or UPN")],
        policies: PoliciesOpt = [],  # noqa: B006
        app_: Annotated[str, typer.Option("--app", help="target resource (cloud app) id")] = "",
        app_name: Annotated[str | None, typer.Option("--app-name", help="resource display name")] = None,
        user_action: Annotated[str | None, typer.Option(
            "--user-action", help="urn:user:registersecurityinfo | urn:user:registerdevice")] = None,
        auth_context: Annotated[list[str], typer.Option("--auth-context", help="c1..c99 (repeatable)")] = [],  # noqa: B006
        ip: Annotated[str | None, typer.Option("--ip", help="client IP")] = None,
        resource_ip: Annotated[str | None, typer.Option(
            "--resource-ip", help="IP seen by the resource provider (CAE strict location)")] = None,
        country: Annotated[str | None, typer.Option("--country", help="ISO 3166 two-letter country")] = None,
        platform: Annotated[str | None, typer.Option(
            "--platform", help="android|iOS|windows|macOS|linux|windowsPhone")] = None,
        client_app: Annotated[str, typer.Option("--client-app", help="browser|mobileAppsAndDesktopClients|"
                                                "exchangeActiveSync|other")] = "browser",
        device_id: Annotated[str | None, typer.Option("--device-id", help="registered device id")] = None,
        device_compliant: Annotated[bool | None, typer.Option("--device-compliant/--device-not-compliant")] = None,
        device_managed: Annotated[bool | None, typer.Option("--device-managed/--device-not-managed")] = None,
        device_trust_type: Annotated[str | None, typer.Option(
            "--device-trust-type", help="AzureAD|ServerAD|Workplace")] = None,
        device_attr: Annotated[list[str], typer.Option(
            "--device-attr", help="device filter attribute NAME=VALUE")] = [],  # noqa: B006
        signin_risk: Annotated[str | None, typer.Option("--signin-risk", help="none|low|medium|high|hidden")] = None,
        user_risk: Annotated[str | None, typer.Option("--user-risk", help="none|low|medium|high|hidden")] = None,
        group: Annotated[list[str], typer.Option("--group", help="group id the user is in (repeatable)")] = [],  # noqa: B006
        role: Annotated[list[str], typer.Option("--role", help="role template id or name (repeatable)")] = [],  # noqa: B006
        guest: Annotated[bool, typer.Option("--guest", help="the user is a guest / external user")] = False,
        mfa: Annotated[bool, typer.Option("--mfa", help="the sign-in already satisfied MFA")] = False,
        auth_method: Annotated[list[str], typer.Option("--auth-method", help="authentication method used")] = [],  # noqa: B006
        auth_flow: Annotated[str | None, typer.Option(
            "--auth-flow", help="deviceCodeFlow|authenticationTransfer")] = None,
        applied_only: Annotated[bool, typer.Option("--applied-only", help="only the policies that apply")] = False,
        user_agent: Annotated[str | None, typer.Option("--user-agent", help="for vigil's real-time score")] = None,
        session_id: Annotated[str | None, typer.Option(
            "--session-id", help="session of the presented token, for vigil's real-time score")] = None,
        vigil_risk: Annotated[bool, typer.Option(
            "--vigil-risk/--no-vigil-risk", help="risk not given is vigil's: the user's riskyUsers level and a "
            "real-time score of this sign-in from the store's profiles (default: on when there is a store)")] = True,
        locations: LocationsOpt = None, allow_unresolved: LenientOpt = False,
        db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False,
    ) -> None:
        """Which policies apply to one hypothetical sign-in (like Graph's evaluate action) and the decision."""
        from vigil.policy.context import context_from_mapping
        from vigil.policy.whatif import whatif

        settings = settings_from(db, config)
        ps = _policy_set(settings, policies, locations, allow_unresolved)
        if not app_ and not user_action and not auth_context:
            raise InputError("give the target: --app (resource id), --user-action or --auth-context")
        dir_groups, dir_roles, dir_type = _directory_for(settings, user)
        is_id = len(user) == 36 and user.count("-") == 4
        data: dict[str, Any] = {
            "user_id": user if is_id else None, "user_principal_name": None if is_id else user.lower(),
            "user_type": "Guest" if guest else (dir_type or "Member"), "groups": list(group) + dir_groups,
            "roles": list(role) + dir_roles, "application_id": app_ or None, "application_name": app_name,
            "user_action": user_action, "authentication_context": list(auth_context), "ip": ip,
            "resource_ip": resource_ip,
            "country": country,
            "platform": platform, "client_app_type": client_app, "sign_in_risk": signin_risk,
            "user_risk": user_risk, "authentication_flow": auth_flow, "mfa_satisfied": mfa,
            "authentication_methods": list(auth_method),
            "device": _device(device_id, device_compliant, device_managed, device_trust_type, device_attr, platform),
        }
        supplied = {k for k, v in data.items() if v not in (None, [], False)}
        ctx = context_from_mapping({**data, "user_agent": user_agent, "session_id": session_id})
        risk = None
        if vigil_risk and Path(settings.store.path).exists():
            from vigil.policy.riskinput import RiskInputs

            with store_from(settings, read_only=True) as store:
                inputs = RiskInputs.from_store(store, settings)
            ctx, assessment = inputs.assess(ctx, supplied, record=False)
            supplied |= {"sign_in_risk", "user_risk"}
            risk = assessment.to_dict()
        result = whatif(ps, ctx, supplied=supplied, applied_only=applied_only)
        if risk is not None:
            result["risk"] = risk
        emit(result, as_json=json, render=_render_whatif)

    @pol.command("replay")
    def replay_cmd(
        policies: PoliciesOpt = [],  # noqa: B006
        compare: Annotated[list[str], typer.Option("--compare", help="second policy set to compare (repeatable)")] = [],  # noqa: B006
        compare_locations: Annotated[str | None, typer.Option(
            "--compare-locations", help="named locations of the second set (default: --locations)")] = None,
        labels: Annotated[str | None, typer.Option("--labels", help="labels.jsonl (event labels, malicious)")] = None,
        respect_report_only: Annotated[bool, typer.Option(
            "--respect-report-only",
            help="do not enforce report-only policies (default: replay enforces them)")] = False,
        sign_in_risk: Annotated[list[str], typer.Option(
            "--sign-in-risk", help="stored (vigil's signinRisk, else vendor) | realtime (vigil's real-time scorer "
            "replayed) | vendor; give two to compare the set under both, e.g. realtime and vendor")] = [],  # noqa: B006
        locations: LocationsOpt = None, allow_unresolved: LenientOpt = False,
        db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False,
    ) -> None:
        """What-if over history: replay stored sign-ins through a policy set (and compare two sets, or one
        set under two sign-in risk sources)."""
        from rich.progress import Progress

        from vigil.policy.replay import replay

        settings = settings_from(db, config)
        sources = list(sign_in_risk) or ["stored"]
        if len(sources) > 2 or (len(sources) == 2 and compare):
            raise InputError("--sign-in-risk: one source per set, or two sources for one set (without --compare)")
        set_a = _policy_set(settings, policies, locations, allow_unresolved)
        set_b = _policy_set(settings, compare, compare_locations or locations, allow_unresolved) if compare else None
        runs = [("A", set_a, sources[0])]
        if set_b is not None or len(sources) == 2:
            runs.append(("B", set_b if set_b is not None else set_a, sources[-1]))
        reports = []
        with store_from(settings, read_only=True) as store, Progress(console=console, transient=True,
                                                                     disable=json) as bar:
            for name, ps, source in runs:
                task = bar.add_task(f"replaying set {name} (sign-in risk: {source})", total=None)

                def tick(i: int, n: int, t: Any = task) -> None:
                    bar.update(t, completed=i, total=n)

                rep = replay(store, ps, labels=labels, respect_report_only=respect_report_only, progress=tick,
                             sign_in_risk=source, settings=settings)
                reports.append(rep.to_dict())
        if len(runs) == 1:
            emit(reports[0], as_json=json, render=_render_replay)
            return
        a_name = ", ".join(policies) or "stored policies"
        data = {"a_name": a_name + (f" (sign-in risk {sources[0]})" if len(sources) == 2 else ""),
                "b_name": ", ".join(compare) if compare else f"{a_name} (sign-in risk {sources[-1]})",
                "a": reports[0], "b": reports[1],
                "comparison": comparison(reports[0], reports[1])}
        emit(data, as_json=json, render=_render_compare)
