"""Which record each row of a batch updates, and what it changes: set-based, per batch.

For every batch the matcher asks the database once per kind of key (`WHERE siren IN (…)` over
the batch's distinct values, in chunks), rather than loading every key of the base into memory
at the start: memory stays flat at a million records, records written by the run's earlier
batches are found like any other, and inside the batch's transaction (SQLite's write lock,
PostgreSQL's row locks) nobody can slip a conflicting write in between the read and the write.

Decisions, each reported per row with its reason:
- the chosen key decides; the row's external id for the same source is the fallback when the
  key is blank or unknown; a row whose key is blank and has no external id is created;
- a key (or external id, or record) that appears again later in the file: the first occurrence
  wins, later ones are rejected naming that row (re-importing the error file then updates it);
- a key matching several records, a record the user may not change, a record erased under the
  GDPR, an unknown owner, an organisation not found or ambiguous: the row is rejected;
- `fill_empty` sets only blank fields, `overwrite` replaces mapped fields, `skip` leaves existing
  records alone. A blank cell never erases a stored value, whatever the policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError
from cible.quality.imports.extras import merge
from cible.quality.imports.lookups import (
    EXTERNAL_ID,
    OWNER_EMAIL,
    by_column,
    concrete_names,
    derived_fields,
    external_ids,
    key_column,
    link_row,
    links_of,
    resolve_links,
    stored_rows,
)
from cible.quality.imports.models import ImportRun, source_key
from cible.quality.imports.registry import ImportableEntity

# --- what a batch becomes ---------------------------------------------------------------------


@dataclass
class Create:
    row: int
    values: dict[
        str, Any
    ]  # model column (attname) -> value, every column of Matcher.create_columns
    external_id: str = ""


@dataclass
class Update:
    row: int
    id: int
    values: dict[str, Any]  # the changed columns only
    previous: dict[str, Any] = field(default_factory=dict)  # their values before (after_write)


@dataclass
class Plan:
    creates: list[Create] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    rejected: dict[int, list[FieldError]] = field(default_factory=dict)
    new_keys: list[tuple[str, int]] = field(default_factory=list)  # (external id, record id)
    stale_keys: set[str] = field(default_factory=set)  # external ids of deleted records

    def reject(self, row: int, errors: Iterable[FieldError]) -> None:
        self.rejected.setdefault(row, []).extend(errors)


@dataclass
class RunState:
    """What the matcher remembers from one batch to the next within a run.

    The real run remembers the records it wrote (ids, about 100 bytes each): a key met again
    in a later batch finds the record the earlier row created or updated, since that batch
    has committed. The dry run writes nothing, so it remembers the keys themselves.
    """

    seen_keys: dict[str, int] = field(default_factory=dict)  # key value -> first row
    seen_external: dict[str, int] = field(default_factory=dict)
    seen_ids: dict[int, int] = field(default_factory=dict)  # record id -> row writing it
    owners: dict[str, int] | None = None  # lower-case email -> active user id


Matched = tuple[int, dict[str, Any], int | None, dict[str, Any] | None]


@dataclass
class _Claims:
    """Rows of the current batch that came first with a key, an external id or a record."""

    keys: dict[str, int] = field(default_factory=dict)
    external: dict[str, int] = field(default_factory=dict)
    targets: dict[int, int] = field(default_factory=dict)
    rows: list[tuple[int, str, str, int | None]] = field(default_factory=list)

    def claim(self, row: int, key: str, external: str, target: int | None) -> None:
        if key:
            self.keys[key] = row
        if external:
            self.external[external] = row
        if target is not None:
            self.targets[target] = row
        self.rows.append((row, key, external, target))


# --- the matcher --------------------------------------------------------------------------------


class Matcher:
    """Plans each batch of one run: rows to create, records to update, rows to reject."""

    def __init__(
        self, *, entity: ImportableEntity, run: ImportRun, actor: Any, dry_run: bool = False
    ) -> None:
        self.entity = entity
        self.dry_run = dry_run
        self.model = entity.model
        self.actor = actor
        self.policy = run.policy
        self.source = source_key(run.source)
        self.state = RunState()
        mapped = set(run.mapping.values())
        self.field_column = {f: c for c, f in run.mapping.items() if f}
        self.key = next(k for k in entity.keys if k.name == run.key)
        self.key_column = key_column(entity, self.key)
        self.uses_external = EXTERNAL_ID in mapped
        self.key_label = str(self.key.label)
        names = concrete_names(self.model)
        self.has_owner = "owner" in names
        self.owner_mapped = OWNER_EMAIL in mapped and self.has_owner
        self.links = [link for link in links_of(entity) if link.field in mapped]
        self.link_attnames = sorted({link.attname for link in self.links})
        self.mapped_specs = [name for name in entity.specs if name in mapped]
        self.derived = derived_fields(entity)
        self.fields = [name for name in entity.specs if name in names] + [
            name for name in self.derived if name not in entity.specs
        ]
        defaults = dict(entity.blanks)
        entity.derive(defaults)
        if "source" in entity.specs and "source" not in mapped and "source" in names:
            defaults["source"] = "import"  # the Source choice: where the record came from
        self.create_defaults = {name: defaults.get(name) for name in self.fields}
        for attname in self.link_attnames:
            self.create_defaults[attname] = None
        self.actor_id = getattr(actor, "pk", None)
        extra = (["owner_id"] if self.has_owner else []) + self.link_attnames
        self.create_columns = ["id", *self.fields, *[c for c in extra if c not in self.fields]]
        self.anonymisable = "anonymised_at" in names
        self.opt_out_stamp = "opted_out_at" in names and "email_opt_out" in names
        self.linked = [*(["owner_id"] if self.owner_mapped else []), *self.link_attnames]
        self.compare = [*self.mapped_specs, *self.linked]  # what a row may change
        self._may_change: dict[int | None, bool] = {}
        self._create_errors: Mapping[int, list[FieldError]] = {}

    def _owners(self) -> dict[str, int]:
        if self.state.owners is None:
            User = get_user_model()
            owners: dict[str, int] = {}
            for email, pk in (
                User.objects.filter(is_active=True).exclude(email="").values_list("email", "id")
            ):
                owners.setdefault(email.lower(), pk)
            self.state.owners = owners
        return self.state.owners

    def may_change(self, owner_id: int | None) -> bool:
        """`access.can(actor, "change", record)`: for accounts it depends on the owner only."""
        if owner_id not in self._may_change:
            proxy = self.model(owner_id=owner_id) if self.has_owner else self.model()
            self._may_change[owner_id] = access.can(self.actor, "change", proxy)
        return self._may_change[owner_id]

    # --- the plan ----------------------------------------------------------------------------

    def row_key(self, values: Mapping[str, Any]) -> str:
        # Normalised values are stripped text already (or None): no per-row cleaning here.
        if self.key_column is None:
            return values.get(EXTERNAL_ID) or ""
        if self.key_column in values:
            return values[self.key_column] or ""
        value = values.get(self.key.field) or ""
        return value.lower() if self.key_column.endswith("_key") else value

    def plan(
        self,
        rows: Sequence[int],
        values: Sequence[dict[str, Any]],
        *,
        lock: bool,
        create_errors: Mapping[int, list[FieldError]] | None = None,
    ) -> tuple[Plan, list[Matched]]:
        """Decide every row: returns the plan (creates without ids yet) and, per kept row,
        (row, values, matched id, resolved links). `create_errors`: rows that may update a
        record but not create one (a required field is empty), with the reasons."""
        plan = Plan()
        self._create_errors = create_errors or {}
        row_key = self.row_key
        keys = [row_key(v) for v in values]
        externals = (
            [v.get(EXTERNAL_ID) or "" for v in values] if self.uses_external else [""] * len(rows)
        )
        by_key: dict[str, list[int]] = {}
        if self.key_column is not None:
            by_key = by_column(self.model._default_manager.all(), self.key_column, set(keys) - {""})
        by_external: dict[str, int] = {}
        if self.uses_external:
            by_external, plan.stale_keys = external_ids(
                self.entity.name, self.source, self.model, set(externals) - {""}
            )
        link_maps = resolve_links(self.actor, self.source, self.links, values) if self.links else {}
        owners = self._owners() if self.owner_mapped else {}
        state = self.state
        seen_keys, seen_external, seen_ids = state.seen_keys, state.seen_external, state.seen_ids
        by_external_key = self.key_column is not None  # the external id is a second key
        owner_mapped, has_links = self.owner_mapped, bool(self.links)

        matched: list[Matched] = []
        claims = _Claims()
        for row, vals, key, external in zip(rows, values, keys, externals, strict=True):
            links: dict[str, Any] | None = None
            errors: list[FieldError] | None = None
            if owner_mapped:
                email = (vals.get(OWNER_EMAIL) or "").lower()
                if email:
                    owner = owners.get(email)
                    if owner is None:
                        errors = [self._unknown_owner(email)]
                    links = {"owner_id": owner}
            if has_links:
                links = links or {}
                found = link_row(self.links, self.link_attnames, vals, link_maps, links)
                if found:
                    errors = (errors or []) + found
            # The common cases inline: no record or one for the key, no conflict.
            target: int | None = None
            problem: FieldError | None = None
            ids = by_key.get(key) if key and by_external_key else None
            if not by_external_key:  # the key is the external id itself
                target = by_external.get(key) if key else None
            elif ids is None:
                target = by_external.get(external) if external else None
            elif (
                ids is not None
                and len(ids) == 1
                and (not external or by_external.get(external, ids[0]) == ids[0])
            ):
                target = ids[0]
            else:
                target, problem = self._target(key, external, by_key, by_external)
            if problem is not None:
                errors = (errors or []) + [problem]
            elif (
                (key and (key in claims.keys or key in seen_keys))
                or (
                    external
                    and by_external_key
                    and (external in claims.external or external in seen_external)
                )
                or (target is not None and (target in claims.targets or target in seen_ids))
            ):
                errors = (errors or []) + self._duplicates(key, external, target, claims)
            if errors:
                plan.reject(row, errors)
                continue
            claims.claim(row, key, external if by_external_key else "", target)
            matched.append((row, vals, target, links))
        externals_of = dict(zip(rows, externals, strict=True))
        self._decide(plan, matched, by_external, externals_of=externals_of, lock=lock)
        if self.entity.vet is not None and (plan.creates or plan.updates):
            refused = self.entity.vet(plan.creates, plan.updates)
            if refused:
                plan.creates = [c for c in plan.creates if c.row not in refused]
                plan.updates = [u for u in plan.updates if u.row not in refused]
                for row, errors in refused.items():
                    plan.reject(row, errors)
        # Only rows that go in count as "the first occurrence" for the rest of the file.
        rejected = plan.rejected
        remember_keys = self.dry_run
        for row, key, external, target in claims.rows:
            if row in rejected:
                continue
            if remember_keys and key:
                seen_keys[key] = row
            if remember_keys and external:
                seen_external[external] = row
            if target is not None:
                seen_ids[target] = row
        return plan, matched

    def remember_created(self, creates: Sequence[Create], ids: Sequence[int]) -> None:
        """The records a batch created: later rows with their key are duplicates."""
        seen_ids = self.state.seen_ids
        for create, pk in zip(creates, ids, strict=True):
            seen_ids[pk] = create.row

    def _unknown_owner(self, email: str) -> FieldError:
        return FieldError(
            OWNER_EMAIL, _("no active user has the email %(email)s") % {"email": email}
        )

    def _target(
        self,
        key: str,
        external: str,
        by_key: Mapping[str, list[int]],
        by_external: Mapping[str, int],
    ) -> tuple[int | None, FieldError | None]:
        target: int | None = None
        key_field = EXTERNAL_ID if self.key_column is None else self.key.field
        if key and self.key_column is not None:
            ids = by_key.get(key, [])
            if len(ids) > 1:
                shown = ", ".join(str(i) for i in sorted(ids)[:5])
                return None, FieldError(
                    key_field,
                    _(
                        "%(count)s records have this %(key)s (ids %(ids)s): import with another "
                        "match key, or merge those duplicates first"
                    )
                    % {"count": len(ids), "key": self.key_label, "ids": shown},
                )
            target = ids[0] if ids else None
        if external:
            known = by_external.get(external)
            if target is None:
                target = known
            elif known is not None and known != target:
                return None, FieldError(
                    EXTERNAL_ID,
                    _(
                        "this external id already belongs to record %(known)s, but the "
                        "%(key)s matches record %(target)s"
                    )
                    % {"known": known, "key": self.key_label, "target": target},
                )
        return target, None

    def _duplicates(
        self, key: str, external: str, target: int | None, claims: _Claims
    ) -> list[FieldError]:
        state = self.state
        key_field = EXTERNAL_ID if self.key_column is None else self.key.field
        if key:
            earlier = claims.keys.get(key) or state.seen_keys.get(key)
            if earlier is not None:
                return [self._duplicate(key_field, earlier, self.key_label, key)]
        if external and self.key_column is not None:
            earlier = claims.external.get(external) or state.seen_external.get(external)
            if earlier is not None:
                return [self._duplicate(EXTERNAL_ID, earlier, _("external id"), external)]
        if target is not None:
            earlier = claims.targets.get(target) or state.seen_ids.get(target)
            if earlier is not None and key and target not in claims.targets:
                return [self._duplicate(key_field, earlier, self.key_label, key)]
            if earlier is not None and external and target not in claims.targets:
                return [self._duplicate(EXTERNAL_ID, earlier, _("external id"), external)]
            if earlier is not None:
                return [
                    FieldError(
                        key_field,
                        _(
                            "row %(row)s already updates the same record (id %(id)s): only the "
                            "first is imported; import this row again to apply it as well"
                        )
                        % {"row": earlier, "id": target},
                    )
                ]
        return []

    def _duplicate(self, name: str, earlier: int, label: Any, value: str) -> FieldError:
        return FieldError(
            name,
            _(
                "duplicate of row %(row)s (same %(key)s %(value)s): only the first is imported; "
                "import this row again to apply it to that record"
            )
            % {"row": earlier, "key": label, "value": value},
        )

    # --- policies ------------------------------------------------------------------------------

    def _decide(
        self,
        plan: Plan,
        matched: list[Matched],
        by_external: Mapping[str, int],
        *,
        externals_of: Mapping[int, str],
        lock: bool,
    ) -> None:
        """Create, update, leave alone or reject each kept row, by the policy.

        The stored values are read without a lock to find the records that change (most of
        a re-import changes nothing); those alone are read again under lock (PostgreSQL's
        FOR UPDATE; SQLite's write lock is held already) and decided again on what they hold
        now, so that nothing a colleague saved meanwhile is overwritten unseen."""
        targets = [t for _r, _v, t, _l in matched if t is not None]
        head = ["version", *(["owner_id"] if self.has_owner else [])]
        head += ["anonymised_at"] if self.anonymisable else []
        columns = head + [c for c in self.compare if c not in head]
        stored = stored_rows(self.model, targets, columns, lock=False) if targets else {}
        layout = _Layout(columns, self)
        skip = self.policy == ImportRun.Policy.SKIP
        changing: list[tuple[int, int, dict[str, Any], dict[str, Any] | None, str]] = []
        for row, vals, target, links in matched:
            external = externals_of.get(row, "")
            if target is None:
                self._create_or_reject(plan, row, vals, external, links)
                continue
            if external and by_external.get(external) != target:
                plan.new_keys.append((external, target))
            record = stored.get(target)
            if record is None:  # deleted since the key was looked up
                self._create_or_reject(plan, row, vals, external, links)
                continue
            if skip:
                plan.unchanged.append(row)
                continue
            verdict = self._verdict(vals, links, target, record, layout)
            if verdict is None:
                plan.unchanged.append(row)
            elif isinstance(verdict, FieldError):
                plan.reject(row, [verdict])
            else:
                changing.append((row, target, vals, links, external))
        if changing:
            self._updates(plan, changing, columns, lock=lock)

    def _verdict(
        self,
        vals: Mapping[str, Any],
        links: Mapping[str, Any] | None,
        target: int,
        record: tuple,
        layout: _Layout,
    ) -> dict[str, Any] | FieldError | None:
        """The changes the row makes to the stored `record`, a reason to refuse, or None."""
        if layout.erased_at is not None and record[layout.erased_at] is not None:
            return self._erased(target)
        if not self.may_change(record[layout.owner_at] if layout.owner_at is not None else None):
            return self._forbidden(target)
        overwrite = self.policy == ImportRun.Policy.OVERWRITE
        changes: dict[str, Any] | None = None
        for name, at, blank, from_links in layout.compare:
            new = (links or {}).get(name) if from_links else vals.get(name)
            if new is None or new == "" or new == blank:
                continue  # a blank cell never erases a stored value
            old = record[at]
            if name == self.entity.extras:  # kept columns: the row's keys join the stored ones
                new = merge(old, new, overwrite=overwrite)
                if new == old or (not old and not new):
                    continue
            elif overwrite:
                if new == old:
                    continue
            elif not (old is None or old == "" or old == blank):
                continue
            if changes is None:
                changes = {}
            changes[name] = new
        return changes

    def _erased(self, target: int) -> FieldError:
        return FieldError(
            "",
            _("matches a record erased under the GDPR (id %(id)s): it cannot be filled again")
            % {"id": target},
        )

    def _forbidden(self, target: int) -> FieldError:
        return FieldError("", _("matches a record you may not change (id %(id)s)") % {"id": target})

    def _create_or_reject(
        self,
        plan: Plan,
        row: int,
        vals: Mapping[str, Any],
        external: str,
        links: Mapping[str, Any] | None,
    ) -> None:
        if row in self._create_errors:
            plan.reject(row, self._create_errors[row])
        else:
            plan.creates.append(self._create(row, vals, external, links))

    def _create(
        self, row: int, vals: Mapping[str, Any], external: str, links: Mapping[str, Any] | None
    ) -> Create:
        # The normalised values hold blanks already ("" or None as the model stores them);
        # keys that are not columns (link fields) are never read by the writer.
        values = self.create_defaults.copy()
        values.update(vals)
        if links:
            values.update(links)
        if self.has_owner:
            values["owner_id"] = values.get("owner_id") or self.actor_id
        if self.opt_out_stamp and values.get("email_opt_out"):
            values["opted_out_at"] = _now()
        return Create(row, values, external)

    def _updates(
        self,
        plan: Plan,
        changing: list[tuple[int, int, dict[str, Any], dict[str, Any] | None, str]],
        columns: list[str],
        *,
        lock: bool,
    ) -> None:
        """Decide the changing records again under lock, then derive their computed fields
        (name_key, size class…) from the whole record as it will be."""
        fields = self.fields
        full_columns = columns + [f for f in fields if f not in columns]
        layout = _Layout(full_columns, self)
        locked = stored_rows(
            self.model, [t for _r, t, _v, _l, _e in changing], full_columns, lock=lock
        )
        for row, target, vals, links, external in changing:
            record = locked.get(target)
            if record is None:  # deleted between the two reads
                self._create_or_reject(plan, row, vals, external, links)
                continue
            verdict = self._verdict(vals, links, target, record, layout)
            if verdict is None:
                plan.unchanged.append(row)
                continue
            if isinstance(verdict, FieldError):
                plan.reject(row, [verdict])
                continue
            before = {name: record[layout.position[name]] for name in fields}
            merged = {**before, **{k: v for k, v in verdict.items() if k in before}}
            errors = self.entity.derive(merged)
            if errors:
                plan.reject(row, errors)
                continue
            values = {name: merged[name] for name in fields if merged[name] != before[name]}
            values.update({k: v for k, v in verdict.items() if k not in before})
            if (
                self.opt_out_stamp
                and values.get("email_opt_out")
                and not before.get("email_opt_out")
            ):
                values["opted_out_at"] = _now()
            if values:
                previous = {k: before.get(k) for k in values}
                plan.updates.append(Update(row, target, values, previous))
            else:
                plan.unchanged.append(row)


class _Layout:
    """Where each column sits in a stored row read by `stored_rows`, and what to compare:
    (field, its position, its blank value, whether the row's links hold it)."""

    def __init__(self, columns: list[str], matcher: Matcher) -> None:
        self.position = {c: i for i, c in enumerate(columns)}
        self.owner_at = self.position.get("owner_id")
        self.erased_at = self.position.get("anonymised_at")
        blanks = matcher.entity.blanks
        self.compare = [
            (name, self.position[name], blanks.get(name), name in matcher.linked)
            for name in matcher.compare
        ]


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
