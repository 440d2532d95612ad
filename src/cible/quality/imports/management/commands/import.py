"""`cible import`: import a CSV or XLSX file of organisations or contacts, in the foreground.

The same services as the wizard and the API (channel "cli"), with a progress bar on stderr.
Ctrl-C stops cleanly after the current batch (twice: at once, the current batch rolled back);
`--resume RUN` finishes an import that failed, was cancelled or was killed, after its last
committed batch, without duplicating anything.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.quality.imports import registry, selectors, services
from cible.quality.imports.mapping import preset_mapping
from cible.quality.imports.models import ImportRun

Status = ImportRun.Status


def _n(value: Any) -> str:
    return number_format(int(value or 0), force_grouping=True)


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of organisations or contacts: map its columns, match existing "
        "records by a key, and create, update or skip them; every rejected row goes to an error "
        "file that can be fixed and imported again as it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="the CSV or XLSX file (not with --resume)")
        parser.add_argument(
            "--entity", choices=[e.name for e in registry.entities()], help="what the file holds"
        )
        parser.add_argument(
            "--source",
            help="where the file comes from (“Salesforce export”, “Salon VivaTech 2026”): "
            "external ids are kept per source, and the mapping is remembered per source",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="map a column to a field (repeatable); COLUMN= ignores the column",
        )
        parser.add_argument(
            "--preset", help="the columns of a known export: salesforce, hubspot, x_education"
        )
        parser.add_argument(
            "--key",
            help="how existing records are found: external_id, siren, siret, domain, email",
        )
        parser.add_argument(
            "--policy",
            choices=ImportRun.Policy.values,
            default=ImportRun.Policy.FILL_EMPTY,
            help="existing records: fill their empty fields (default), overwrite, or skip them",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would happen, write nothing"
        )
        parser.add_argument("--resume", metavar="RUN", help="resume the import RUN (its uuid)")
        parser.add_argument(
            "--user", metavar="EMAIL", help="who imports (default: the only administrator)"
        )
        parser.add_argument("--errors", metavar="PATH", help="where to write the error file")
        parser.add_argument(
            "--batch-size",
            type=int,
            metavar="ROWS",
            help="rows per batch, each written in one transaction (default 50,000)",
        )

    # --- output ---------------------------------------------------------------------------------

    def say(self, message: str = "") -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _progress(self, run: ImportRun) -> None:
        done = run.rows_checked if run.status == Status.CHECKING else run.rows_done
        total = max(run.rows_total, 1)
        elapsed = max(time.perf_counter() - self._began, 1e-6)
        rate = (done - self._first) / elapsed
        width = 30
        filled = int(width * min(done, total) / total)
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"\r[{bar}] {min(100, done * 100 // total):3d}%  {_n(done)} / {_n(run.rows_total)} "
            + _("rows")
            + f"  {_n(rate)} "
            + _("rows/s")
        )
        self.stderr.write(line, ending="")
        self.stderr.flush()

    def _report(self, run: ImportRun, *, dry_run: bool, errors_path: Path | None) -> None:
        self.stderr.write("")
        counts = run.dry_run_counts if dry_run else run.counts
        title = _("Dry run (nothing written)") if dry_run else _("Import")
        self.say(f"{title}: {run.filename} → {run.entity_label} ({run.status}), {run.uuid}")
        for key, label in (
            ("created", _("would be created") if dry_run else pgettext("rows", "created")),
            ("updated", _("would be updated") if dry_run else pgettext("rows", "updated")),
            ("unchanged", pgettext("rows", "unchanged")),
            ("rejected", pgettext("rows", "rejected")),
        ):
            self.say(f"  {label:<20}{_n(counts.get(key)):>14}")
        changes = selectors.changes(run)
        if changes:
            entity = registry.get(run.entity)
            labels = {f.name: str(f.label) for f in entity.fields} if entity else {}
            self.say(_("Values rewritten by the normalisers:"))
            for name, change in changes.items():
                example = f"  ({change['before']} → {change['after']})" if change["before"] else ""
                self.say(f"  {labels.get(name, name):<20}{_n(change['count']):>14}{example}")
        seconds = sum((run.timings or {}).values())
        if seconds:
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in (run.timings or {}).items())
            self.say(_("Time: %(phases)s") % {"phases": phases})
        if errors_path is not None:
            self.say(
                _("Rejected rows and their reasons: %(path)s (fix them and import that file)")
                % {"path": errors_path}
            )

    # --- steps ----------------------------------------------------------------------------------

    def _actor(self, email: str | None) -> Any:
        User = get_user_model()
        if email:
            user = (
                User.objects.filter(is_active=True).filter(email__iexact=email).first()
                or User.objects.filter(is_active=True, username=email).first()
            )
            if user is None:
                raise CommandError(_("No active user has the email %(email)s.") % {"email": email})
            return user
        admins = [u for u in User.objects.filter(is_active=True, is_superuser=True)[:2]]
        if len(admins) != 1:
            raise CommandError(_("Say who imports with --user EMAIL."))
        return admins[0]

    def _mapping(self, run: ImportRun, options: dict[str, Any]) -> dict[str, str | None]:
        mapping: dict[str, str | None] = dict(run.mapping)
        entity = services.entity_of(run.entity)
        if options["preset"]:
            wanted = options["preset"].strip().lower()
            preset = next(
                (p for p in entity.presets if wanted in (p.name.lower(), str(p.label).lower())),
                None,
            )
            if preset is None:
                known = ", ".join(p.name for p in entity.presets)
                raise CommandError(
                    _("Unknown preset “%(preset)s” (one of: %(known)s).")
                    % {"preset": options["preset"], "known": known}
                )
            for column, target in preset_mapping(preset, run.columns).items():
                if target:
                    if target != entity.extras:  # the extras field keeps many columns
                        mapping = {c: f for c, f in mapping.items() if f != target}
                    mapping[column] = target
        for item in options["map"]:
            column, sep, target = item.partition("=")
            if not sep:
                raise CommandError(_("--map takes COLUMN=FIELD, not “%(item)s”.") % {"item": item})
            column, target = column.strip(), target.strip()
            if target and target != entity.extras:
                mapping = {c: f for c, f in mapping.items() if f != target}
            mapping[column] = target or None
        return mapping

    def _errors_path(self, run: ImportRun, options: dict[str, Any]) -> Path:
        filename, _content = services.error_file(run, dry_run=False)
        if options["errors"]:
            return Path(options["errors"])
        if options["file"]:
            return Path(options["file"]).resolve().parent / filename
        return Path.cwd() / filename

    def _write_errors(
        self, run: ImportRun, options: dict[str, Any], *, dry_run: bool
    ) -> Path | None:
        counts = run.dry_run_counts if dry_run else run.counts
        if not (counts or {}).get("rejected"):
            return None
        _name, content = services.error_file(run, dry_run=dry_run)
        path = self._errors_path(run, options)
        try:
            path.write_bytes(content)
        except OSError:
            path = Path.cwd() / path.name
            path.write_bytes(content)
        return path

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] is not None:
            if options["batch_size"] < 1:
                raise CommandError(_("--batch-size must be at least 1."))
            settings.IMPORT_BATCH_ROWS = options["batch_size"]  # this process only
        actor = self._actor(options["user"])
        if options["resume"]:
            try:
                run = selectors.get_run(actor, options["resume"])
            except CibleError as error:
                raise CommandError(str(error)) from None
        else:
            run = self._upload(actor, options)
        dry_run = bool(options["dry_run"]) and not options["resume"]
        stopping = {"asked": False}

        def interrupt(signum: int, frame: Any) -> None:
            if stopping["asked"]:
                raise KeyboardInterrupt
            stopping["asked"] = True
            self.stderr.write(
                "\n" + _("Stopping after the current batch (Ctrl-C again to stop at once)…")
            )

        previous = signal.signal(signal.SIGINT, interrupt)
        self._began, self._first = time.perf_counter(), (0 if dry_run else run.rows_done)
        try:
            call = services.check if dry_run else services.start
            run = call(
                run,
                actor=actor,
                inline=True,
                progress=self._progress,
                stop=lambda: stopping["asked"],
                **({} if dry_run else {"force": bool(options["resume"])}),
            )
        except CibleError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            run.refresh_from_db()
        finally:
            signal.signal(signal.SIGINT, previous)
        run.refresh_from_db()
        self._report(
            run, dry_run=dry_run, errors_path=self._write_errors(run, options, dry_run=dry_run)
        )
        self._finish(run, dry_run=dry_run)

    def _finish(self, run: ImportRun, *, dry_run: bool) -> None:
        resume = f"cible import --resume {run.uuid}"
        if run.status == Status.FAILED:
            raise CommandError(
                f"{run.error_message}\n" + _("Resume with: %(command)s") % {"command": resume}
            )
        if run.status == Status.CANCELLED or (dry_run and run.status != Status.CHECKED):
            message = _("Cancelled: %(rows)s rows went in.") % {"rows": _n(run.rows_done)}
            if not dry_run:
                message += " " + _("Resume with: %(command)s") % {"command": resume}
            raise CommandError(message, returncode=130)
        if dry_run:
            self.say(
                _("Import it with: %(command)s") % {"command": f"cible import --resume {run.uuid}"}
            )

    def _upload(self, actor: Any, options: dict[str, Any]) -> ImportRun:
        missing = [f"--{name}" for name in ("entity", "source") if not options[name]]
        if not options["file"]:
            missing.insert(0, "FILE")
        if missing:
            raise CommandError(_("Missing: %(what)s.") % {"what": ", ".join(missing)})
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No file at %(path)s.") % {"path": path})
        entity = services.entity_of(options["entity"])
        if not services.may_import(actor, entity):
            raise CommandError(
                _("%(user)s may not import %(records)s.")
                % {"user": actor, "records": entity.model._meta.verbose_name_plural}
            )
        try:
            run = services.upload(
                actor=actor,
                entity=entity.name,
                source=options["source"],
                file=path,
                filename=path.name,
                channel=Channel.CLI,
            )
        except CibleError as error:
            raise CommandError(_describe(error)) from None
        try:
            mapping = self._mapping(run, options)
            services.configure(
                run,
                actor=actor,
                mapping=mapping,
                key=options["key"] or run.key,
                policy=options["policy"],
            )
        except (CibleError, CommandError) as error:
            services.discard(run, actor=actor)
            if isinstance(error, CommandError):
                raise
            raise CommandError(_describe(error)) from None
        self.say(_("Columns:"))
        for column in run.columns:
            target = run.mapping.get(column)
            shown = target or _("(ignored)")
            self.say(f"  {column:<30} → {shown}")
        self.say(
            _("Match key: %(key)s; existing records: %(policy)s")
            % {"key": run.key, "policy": run.get_policy_display()}
        )
        return run


def _describe(error: CibleError) -> str:
    lines = [f"{e.field}: {e.message}" if e.field else e.message for e in error.errors]
    return "\n".join(lines) or str(error)
