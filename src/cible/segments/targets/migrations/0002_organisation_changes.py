"""The organisation change log read by the in-memory columns of target counts (`changelog.py`).

Written by the database itself, in the writer's transaction, so that no write path can forget
it (saves, `QuerySet.update`, raw bulk loads, merges, deletions):

- PostgreSQL: statement triggers with transition tables log the ids each statement inserted,
  updated or deleted, as one array under the writer's transaction id (`xid8`): readers take
  what committed since their snapshot horizon. (PostgreSQL refuses transition tables on
  triggers limited to some columns: every update statement is logged.)
- SQLite: row triggers log each updated (of the columns the counts keep in memory) or deleted
  id under an increasing sequence; writers are serialised, so sequence order is commit order.
  Inserts need no log there: a new row always has an id above every committed one.

The column list is frozen here: a later migration that adds a column to the kept ones must
re-create the SQLite update trigger (`tests/segments/test_changelog.py` checks they agree).
"""

from django.db import migrations

LOG = "targets_organisation_change"
STATE = "targets_change_state"
ORGANISATIONS = "people_organisation"

# Must equal `columns.KEPT_COLUMNS` at the time of this migration.
SQLITE_WATCHED = (
    "status",
    "tier",
    "source",
    "size_class",
    "headcount_band",
    "region",
    "country",
    "naf_section",
    "naf_division",
    "naf_code",
    "postal_code",
    "city",
    "currency",
    "headcount",
    "sales_team_size",
    "owner_id",
)

POSTGRESQL = [
    f"""CREATE TABLE {LOG} (
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        organisation_ids bigint[] NOT NULL
    )""",
    f"CREATE INDEX {LOG}_xid ON {LOG} (xid)",
    f"CREATE TABLE {STATE} (id integer PRIMARY KEY, pruned_through bigint NOT NULL, "
    "marked bigint NOT NULL)",
    f"INSERT INTO {STATE} VALUES (1, 0, 0)",
    f"""CREATE FUNCTION {LOG}_new() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {LOG} (organisation_ids)
        SELECT array_agg(id) FROM changed_rows HAVING count(*) > 0;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER {LOG}_insert AFTER INSERT ON {ORGANISATIONS}
        REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION {LOG}_new()""",
    f"""CREATE TRIGGER {LOG}_update AFTER UPDATE ON {ORGANISATIONS}
        REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION {LOG}_new()""",
    f"""CREATE TRIGGER {LOG}_delete AFTER DELETE ON {ORGANISATIONS}
        REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION {LOG}_new()""",
]

POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS {LOG}_insert ON {ORGANISATIONS}",
    f"DROP TRIGGER IF EXISTS {LOG}_update ON {ORGANISATIONS}",
    f"DROP TRIGGER IF EXISTS {LOG}_delete ON {ORGANISATIONS}",
    f"DROP FUNCTION IF EXISTS {LOG}_new()",
    f"DROP TABLE IF EXISTS {LOG}",
    f"DROP TABLE IF EXISTS {STATE}",
]

SQLITE = [
    f"CREATE TABLE {LOG} (seq integer PRIMARY KEY AUTOINCREMENT, "
    "organisation_id integer NOT NULL)",
    f"CREATE TABLE {STATE} (id integer PRIMARY KEY, pruned_through integer NOT NULL, "
    "marked integer NOT NULL)",
    f"INSERT INTO {STATE} VALUES (1, 0, 0)",
    f"""CREATE TRIGGER {LOG}_update AFTER UPDATE OF {", ".join(SQLITE_WATCHED)}
        ON {ORGANISATIONS} BEGIN
        INSERT INTO {LOG} (organisation_id) VALUES (NEW.id);
    END""",
    f"""CREATE TRIGGER {LOG}_delete AFTER DELETE ON {ORGANISATIONS} BEGIN
        INSERT INTO {LOG} (organisation_id) VALUES (OLD.id);
    END""",
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {LOG}_update",
    f"DROP TRIGGER IF EXISTS {LOG}_delete",
    f"DROP TABLE IF EXISTS {LOG}",
    f"DROP TABLE IF EXISTS {STATE}",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0001_initial"),
        ("people", "0005_contact_buying_role"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
