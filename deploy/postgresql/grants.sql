-- What the app's role may do with the tables that exist now (CTPAT 4.5, 7.6).
--
-- Run it after every migration, as the owner role or a superuser, connected to the
-- installation's database; deploy/bin/gatekeeper-migrate does both steps. A table
-- that a migration adds stays out of the app's reach until this has run, so an
-- upgrade that skips it fails loudly rather than quietly granting too much.
--
--   psql -v app=gatekeeper_app -f grants.sql
--
-- Running it again gives the same result: it starts by taking everything away.

\set ON_ERROR_STOP on

\if :{?app}
\else
    \set app gatekeeper_app
\endif

BEGIN;

-- Start from nothing, so that a privilege once granted by hand is not carried on
-- unseen.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"app";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM :"app";

-- Reading and changing the current-state tables (visits, accounts, kiosks, ...) is
-- the app's job. TRUNCATE, REFERENCES and TRIGGER are never granted.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The apps read the schema version when they start; only migrations write it.
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM :"app";

-- The log and the audit trail only ever grow. Their triggers refuse UPDATE and
-- DELETE from anyone; taking the privileges away as well means a stolen app
-- password meets two locks, and the second one it cannot remove, because only the
-- owner may drop or disable a trigger.
REVOKE UPDATE, DELETE ON log_entries, audit_events FROM :"app";

-- Any table a migration guards with the refuse_log_change() trigger loses the
-- privileges that trigger refuses, so a new append-only table is covered without
-- editing this file. chain_heads is one: its rows move forward with each entry
-- (UPDATE stays) but are never deleted.
SELECT format(
    'REVOKE %s ON TABLE %I.%I FROM %I',
    string_agg(DISTINCT guarded.privilege, ', '),
    namespaces.nspname,
    tables.relname,
    :'app'
)
FROM pg_trigger AS triggers
JOIN pg_proc AS functions ON functions.oid = triggers.tgfoid
JOIN pg_class AS tables ON tables.oid = triggers.tgrelid
JOIN pg_namespace AS namespaces ON namespaces.oid = tables.relnamespace
-- pg_trigger.tgtype is a bit mask: 8 marks a DELETE trigger, 16 an UPDATE one.
CROSS JOIN (VALUES (8, 'DELETE'), (16, 'UPDATE')) AS guarded (bit, privilege)
WHERE functions.proname = 'refuse_log_change'
    AND namespaces.nspname = 'public'
    AND triggers.tgtype & guarded.bit <> 0
GROUP BY namespaces.nspname, tables.relname
ORDER BY tables.relname \gexec

COMMIT;
