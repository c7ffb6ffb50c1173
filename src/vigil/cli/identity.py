"""``vigil identity``: a person's current name, former names and linked accounts; links by hand."""
from __future__ import annotations

from typing import Annotated, Any

import typer

from vigil.cli._common import ConfigOpt, DbOpt, JsonOpt, console, emit, print_arrow, settings_from, store_from

WhoArg = Annotated[str, typer.Argument(help="any name the person ever had (UPN, login, email, display name), "
                                            "an account id or an identity id")]
ByOpt = Annotated[str, typer.Option("--by", help="who is taking the action (recorded)")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="why (recorded)")]


def _render_person(people: list[dict[str, Any]]) -> None:
    for p in people:
        console.print(f"[bold]{p['name'] or p['person_id']}[/bold] ({p['display_name'] or 'no display name'}) "
                      f"person {p['person_id']}")
        if p["former_names"]:
            console.print("  formerly: " + ", ".join(p["former_names"]))
        for a in p["accounts"]:
            gone = f", deleted {a['deleted_time']}" if a["deleted_time"] else ""
            console.print(f"  account {a['provider']} {a['identity_id']}: {a['name']} "
                          f"({a['events']} events, {a['first_seen']} .. {a['last_seen']}{gone})")
            for x in a["aliases"]:
                if x["kind"] == "display_name":
                    continue
                until = x["valid_to"] or "now"
                console.print(f"    {x['kind']} {x['alias']}: {x['valid_from'] or 'from the start'} .. {until} "
                              f"(learned from {x['learned_from']} {x['evidence']})")
        for link in p["links"]:
            console.print(f"  link {link['identity_a']} ~ {link['identity_b']}: {link['status']} "
                          f"({link['method']}) {link['reason']}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Identities: current and former names, accounts at each identity provider, links.",
                        no_args_is_help=True)
    app.add_typer(group, name="identity")

    @group.command("show")
    def show(who: WhoArg, db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """The person(s) a name finds: current name, former names, accounts, links and their evidence."""
        from vigil.identity import actions

        settings = settings_from(db, config)
        with store_from(settings, read_only=True) as store:
            people = actions.show(store, who)
        emit(people, as_json=json, render=_render_person)

    @group.command("list")
    def list_(renamed: Annotated[bool, typer.Option("--renamed", help="only accounts that changed name")] = False,
              linked: Annotated[bool, typer.Option("--linked", help="only persons with several accounts")] = False,
              db: DbOpt = None, config: ConfigOpt = None, json: JsonOpt = False) -> None:
        """Accounts with their person, current name and how many names they had."""
        from vigil.identity import actions

        settings = settings_from(db, config)
        where = ["true"]
        if renamed:
            where.append("names > 1")
        if linked:
            where.append("accounts > 1")
        with store_from(settings, read_only=True) as store:
            actions.require(store)
            table = store.query(f"""
                select * from (
                  select i.person_id, i.identity_id, i.provider, i.name, i.display_name,
                    (select count(distinct alias) from identity_aliases a where a.identity_id = i.identity_id
                       and a.kind in ('upn', 'login', 'email')) as names,
                    count(*) over (partition by i.person_id) as accounts, i.events, i.last_seen, i.deleted_time
                  from identities i
                ) x where {' and '.join(where)} order by person_id, identity_id""")
        print_arrow(table, as_json=json, title="identities", limit=None if json else 200)

    def _action(name: str, help_: str) -> None:
        @group.command(name, help=help_)
        def cmd(first: WhoArg, second: WhoArg, by: ByOpt, reason: ReasonOpt = None, db: DbOpt = None,
                config: ConfigOpt = None, json: JsonOpt = False) -> None:
            from vigil.identity import actions

            settings = settings_from(db, config)
            with store_from(settings) as store:
                out = actions.record(store, name, first, second, actor=by, reason=reason)

            def render(o: dict[str, Any]) -> None:
                console.print(f"{o['action']} {o['identity_a']} ~ {o['identity_b']}: recorded by {o['actor']} at "
                              f"{o['at']}; person(s) now {', '.join(o['person_ids'])} ({o['note']})")

            emit(out, as_json=json, render=render)

    _action("link", "Link two accounts as one person (recorded with --by; wins over automatic links).")
    _action("unlink", "Reject the link between two accounts (recorded with --by; wins over automatic links).")
