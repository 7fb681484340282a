-- Run once as the database superuser: sudo -u postgres psql -f deploy/postgres/setup.sql
-- ClipForge creates its tables itself (jobs, schema_version, procrastinate's) on first start.
CREATE ROLE clipforge LOGIN PASSWORD 'change-me';
CREATE DATABASE clipforge OWNER clipforge;
