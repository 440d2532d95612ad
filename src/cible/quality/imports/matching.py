"""Which record each row of a batch is about: set-based, per batch.

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
- a key matching several records, a key and an external id naming two records, an unknown
  owner, an organisation not found or ambiguous: the row is rejected.
What a matched row then does to its record, by the policy, is decided in `decisions.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from cible.core.errors import FieldError
from cible.quality.imports.decisions import Create, Decisions, Matched, Plan
from cible.quality.imports.lookups import (
    EXTERNAL_ID,
    OWNER_EMAIL,
    by_column,
    concrete_names,
    external_ids,
    key_column,
    link_row,
    links_of,
    resolve_links,
)
from cible.quality.imports.models import ImportRun, source_key
from cible.quality.imports.registry import ImportableEntity
from cible.quality.imports.written_rows import WrittenRows


@dataclass
class RunState:
    """What the matcher remembers from one batch to the next within a run.

    The real run remembers the records it wrote (ids, 16 bytes each with their rows): a key met
    again in a later batch finds the record the earlier row created or updated, since that
    batch has committed. The dry run writes nothing, so it remembers the keys themselves.
    """

    seen_keys: dict[str, int] = field(default_factory=dict)  # key value -> first row
    seen_external: dict[str, int] = field(default_factory=dict)
    seen_ids: WrittenRows = field(default_factory=WrittenRows)  # record id -> row writing it
    owners: dict[str, int] | None = None  # lower-case email -> active user id


@dataclass
class _Claims:
    """Rows of the current batch that came first with a key, an external id or a record."""

    keys: dict[str, int] = field(default_factory=dict)
    external: dict[str, int] = field(default_factory=dict)
    targets: dict[int, int] = field(default_factory=dict)
    rows: list[tuple[int, str, str, int | None]] = field(default_factory=list)
    # The records this batch may land on that earlier batches wrote, with their rows.
    written: dict[int, int] = field(default_factory=dict)

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
        self.source = source_key(run.source)
        self.state = RunState()
        mapped = set(run.mapping.values())
        self.field_column = {f: c for c, f in run.mapping.items() if f}
        self.key = next(k for k in entity.keys if k.name == run.key)
        self.key_column = key_column(entity, self.key)
        self.uses_external = EXTERNAL_ID in mapped
        self.key_label = str(self.key.label)
        self.owner_mapped = OWNER_EMAIL in mapped and "owner" in concrete_names(self.model)
        self.links = [link for link in links_of(entity) if link.field in mapped]
        self.link_attnames = sorted({link.attname for link in self.links})
        # The columns of its own table this run looks records up by: their indexes stay while
        # a large run sets the others aside (`bulkload.IndexPlan`).
        self.reads = {self.key_column} if self.key_column else set()
        self.reads |= {
            link.lookup for link in self.links if link.target is self.model and link.lookup
        }
        self.decisions = Decisions(
            entity=entity,
            run=run,
            actor=actor,
            owner_mapped=self.owner_mapped,
            link_attnames=self.link_attnames,
        )
        self.create_columns = self.decisions.create_columns  # what `insert_creates` writes

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
        seen_keys, seen_external = state.seen_keys, state.seen_external
        by_external_key = self.key_column is not None  # the external id is a second key
        owner_mapped, has_links = self.owner_mapped, bool(self.links)

        matched: list[Matched] = []
        candidates = {pk for ids in by_key.values() for pk in ids}
        candidates.update(by_external.values())
        claims = _Claims(written=state.seen_ids.rows_of(candidates))
        written = claims.written
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
                or (target is not None and (target in claims.targets or target in written))
            ):
                errors = (errors or []) + self._duplicates(key, external, target, claims)
            if errors:
                plan.reject(row, errors)
                continue
            claims.claim(row, key, external if by_external_key else "", target)
            matched.append((row, vals, target, links))
        externals_of = dict(zip(rows, externals, strict=True))
        self.decisions.decide(
            plan,
            matched,
            by_external,
            externals_of=externals_of,
            create_errors=create_errors or {},
            lock=lock,
        )
        # Only rows that go in count as "the first occurrence" for the rest of the file.
        rejected = plan.rejected
        remember_keys = self.dry_run
        targets: list[int] = []
        target_rows: list[int] = []
        for row, key, external, target in claims.rows:
            if row in rejected:
                continue
            if remember_keys and key:
                seen_keys[key] = row
            if remember_keys and external:
                seen_external[external] = row
            if target is not None:
                targets.append(target)
                target_rows.append(row)
        state.seen_ids.add(targets, target_rows)
        return plan, matched

    def remember_created(self, creates: Sequence[Create], ids: Sequence[int]) -> None:
        """The records a batch created: later rows with their key are duplicates."""
        self.state.seen_ids.add(ids, [create.row for create in creates])

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
            earlier = claims.targets.get(target) or claims.written.get(target)
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
