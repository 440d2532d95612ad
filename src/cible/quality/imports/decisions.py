"""What each matched row does to its record, by the run's policy: create, update, leave alone
or reject, each refusal reported per row with its reason.

`matching.py` finds the record a row is about (its key, its external id, duplicates within the
file); this module reads what that record holds and decides. Kept apart so that the policies,
and the rules that protect a record whatever the policy, read in one place:
- `fill_empty` sets only blank fields, `overwrite` replaces mapped fields, `skip` leaves existing
  records alone. A blank cell never erases a stored value, whatever the policy;
- a record the user may not change, or a record erased under the GDPR: the row is rejected;
- a row that matches no record creates one, unless a field required to create is empty;
- the entity may still refuse rows a database rule would refuse (`ImportableEntity.vet`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError
from cible.quality.imports.extras import merge
from cible.quality.imports.lookups import concrete_names, derived_fields, stored_rows
from cible.quality.imports.models import ImportRun
from cible.quality.imports.registry import ImportableEntity

STORED_SLICE = 10_000  # matched rows whose stored records are read at once (`decide`)

# --- what a batch becomes ---------------------------------------------------------------------


@dataclass
class Create:
    row: int
    # model column (attname) -> value, every column of Decisions.create_columns
    values: dict[str, Any]
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


# A kept row: (row, its values, the record it matched or None, its resolved links).
Matched = tuple[int, dict[str, Any], int | None, dict[str, Any] | None]
# A row whose record changes: (row, record id, its values, its links, its external id).
Changing = tuple[int, int, dict[str, Any], dict[str, Any] | None, str]


class Decisions:
    """Decides the matched rows of one run by its policy (`Matcher.plan` calls `decide`)."""

    def __init__(
        self,
        *,
        entity: ImportableEntity,
        run: ImportRun,
        actor: Any,
        owner_mapped: bool,
        link_attnames: list[str],
    ) -> None:
        self.entity = entity
        self.model = entity.model
        self.actor = actor
        self.policy = run.policy
        mapped = set(run.mapping.values())
        names = concrete_names(self.model)
        self.has_owner = "owner" in names
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
        for attname in link_attnames:
            self.create_defaults[attname] = None
        self.actor_id = getattr(actor, "pk", None)
        extra = (["owner_id"] if self.has_owner else []) + link_attnames
        self.create_columns = ["id", *self.fields, *[c for c in extra if c not in self.fields]]
        self.anonymisable = "anonymised_at" in names
        self.opt_out_stamp = "opted_out_at" in names and "email_opt_out" in names
        self.linked = [*(["owner_id"] if owner_mapped else []), *link_attnames]
        self.compare = [*self.mapped_specs, *self.linked]  # what a row may change
        self._may_change: dict[int | None, bool] = {}

    def may_change(self, owner_id: int | None) -> bool:
        """`access.can(actor, "change", record)`: for accounts it depends on the owner only."""
        if owner_id not in self._may_change:
            proxy = self.model(owner_id=owner_id) if self.has_owner else self.model()
            self._may_change[owner_id] = access.can(self.actor, "change", proxy)
        return self._may_change[owner_id]

    def decide(
        self,
        plan: Plan,
        matched: list[Matched],
        by_external: Mapping[str, int],
        *,
        externals_of: Mapping[int, str],
        create_errors: Mapping[int, list[FieldError]],
        lock: bool,
    ) -> None:
        """Create, update, leave alone or reject each kept row, by the policy; `create_errors`:
        rows that may update a record but not create one, with the reasons.

        The stored values are read without a lock to find the records that change (most of
        a re-import changes nothing); those alone are read again under lock (PostgreSQL's
        FOR UPDATE; SQLite's write lock is held already) and decided again on what they hold
        now, so that nothing a colleague saved meanwhile is overwritten unseen."""
        head = ["version", *(["owner_id"] if self.has_owner else [])]
        head += ["anonymised_at"] if self.anonymisable else []
        columns = head + [c for c in self.compare if c not in head]
        layout = _Layout(columns, self)
        skip = self.policy == ImportRun.Policy.SKIP
        changing: list[Changing] = []
        # The stored records are read a slice at a time: a re-import matches every row, and a
        # whole batch of them as Python values was its memory peak (the 1 GB).
        for start in range(0, len(matched), STORED_SLICE):
            part = matched[start : start + STORED_SLICE]
            targets = [t for _r, _v, t, _l in part if t is not None]
            stored = stored_rows(self.model, targets, columns, lock=False) if targets else {}
            for row, vals, target, links in part:
                external = externals_of.get(row, "")
                if target is None:
                    self._create_or_reject(plan, row, vals, external, links, create_errors)
                    continue
                if external and by_external.get(external) != target:
                    plan.new_keys.append((external, target))
                record = stored.get(target)
                if record is None:  # deleted since the key was looked up
                    self._create_or_reject(plan, row, vals, external, links, create_errors)
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
            del stored
        if changing:
            self._updates(plan, changing, columns, create_errors, lock=lock)
        if self.entity.vet is not None and (plan.creates or plan.updates):
            refused = self.entity.vet(plan.creates, plan.updates)
            if refused:
                plan.creates = [c for c in plan.creates if c.row not in refused]
                plan.updates = [u for u in plan.updates if u.row not in refused]
                for row, errors in refused.items():
                    plan.reject(row, errors)

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
        vals: dict[str, Any],
        external: str,
        links: Mapping[str, Any] | None,
        create_errors: Mapping[int, list[FieldError]],
    ) -> None:
        if row in create_errors:
            plan.reject(row, create_errors[row])
        else:
            plan.creates.append(self._create(row, vals, external, links))

    def _create(
        self, row: int, vals: dict[str, Any], external: str, links: Mapping[str, Any] | None
    ) -> Create:
        # The normalised values hold blanks already ("" or None as the model stores them);
        # keys that are not columns (link fields) are never read by the writer. The row's own
        # dict is completed rather than copied: one dict per row while the batch lives.
        values = vals
        defaults = self.create_defaults
        for name in defaults.keys() - values.keys():
            values[name] = defaults[name]
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
        changing: list[Changing],
        columns: list[str],
        create_errors: Mapping[int, list[FieldError]],
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
                self._create_or_reject(plan, row, vals, external, links, create_errors)
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

    def __init__(self, columns: list[str], decisions: Decisions) -> None:
        self.position = {c: i for i, c in enumerate(columns)}
        self.owner_at = self.position.get("owner_id")
        self.erased_at = self.position.get("anonymised_at")
        blanks = decisions.entity.blanks
        self.compare = [
            (name, self.position[name], blanks.get(name), name in decisions.linked)
            for name in decisions.compare
        ]


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
