-- The database of one Gatekeeper installation and its two roles (CTPAT 4.5, 4.7).
--
--   owner  owns the tables; only migrations and restores connect as it.
--   app    is what the apps, the `kiosk` command and the backup job connect as.
--          It can read and write the current-state tables and add to the log, but
--          it owns nothing, so it cannot DROP, TRUNCATE or ALTER a table or switch
--          off the triggers that keep the log append-only; grants.sql then takes
--          UPDATE and DELETE on the log and the audit trail away from it.
--
-- Someone who steals the app's password can therefore add entries, but cannot
-- rewrite or remove the history the chain's hashes protect.
--
-- Run once per installation as a PostgreSQL superuser, on the database server:
--
--   sudo -u postgres psql -f roles.sql
--
-- The names can be changed with -v owner=... -v app=... -v db=...; the roles are
-- created without passwords; set them with \password (which sends only a hash).
-- Running it again changes nothing that is already in place.

\set ON_ERROR_STOP on

\if :{?owner}
\else
    \set owner gatekeeper_owner
\endif
\if :{?app}
\else
    \set app gatekeeper_app
\endif
\if :{?db}
\else
    \set db gatekeeper
\endif

-- \gexec runs the statement the query builds, so a role or database that already
-- exists is left alone instead of failing the script.
SELECT format('CREATE ROLE %I LOGIN', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec

SELECT format('CREATE ROLE %I LOGIN', :'app')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec

-- Neither role needs any power over the server itself; say so explicitly, in case a
-- role of that name existed before with more.
ALTER ROLE :"owner" NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

SELECT format(
    'CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0',
    :'db', :'owner', 'UTF8'
)
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec

-- Other roles on a shared server have no business in this database.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";

\connect :"db"

-- Before PostgreSQL 15 every role could create tables in the public schema; the
-- app must not be able to create objects it would then own. Making the owner role
-- the schema's owner gives it CREATE on every version.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
