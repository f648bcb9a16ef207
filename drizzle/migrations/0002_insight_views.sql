-- Views for analysts and Grafana (prefix v_). Plain SQL that runs on PostgreSQL 15+ and PGlite alike.
-- Days are UTC days. A sensor is the ledger row's sensor_serial, else the first folder of its relative path.
-- The failed ledger rows carry no time of failure: claimed_at (when the session last planned or signed the
-- file) stands for it.

-- Sessions still running (active, or finishing while the ledger is reconciled) with progress and rates.
CREATE VIEW "v_live_sessions" AS
SELECT
  s.id AS session_id,
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  p.bucket,
  cy.name AS cycle,
  u.username,
  s.source::text AS source,
  s.label,
  s.status::text AS status,
  s.files_total,
  s.files_done,
  s.files_skipped,
  s.files_failed,
  s.bytes_total,
  s.bytes_done,
  CASE WHEN s.files_total > 0 THEN round(100.0 * s.files_done / s.files_total, 1) ELSE 0 END::double precision
    AS files_percent,
  CASE WHEN s.bytes_total > 0 THEN round(100.0 * s.bytes_done / s.bytes_total, 1) ELSE 0 END::double precision
    AS bytes_percent,
  s.created_at AS started_at,
  s.last_activity_at,
  t.seconds_running,
  (s.files_done / greatest(t.seconds_running, 1))::double precision AS files_per_second,
  (s.bytes_done / greatest(t.seconds_running, 1))::double precision AS bytes_per_second,
  extract(epoch FROM now() - s.last_activity_at)::double precision AS seconds_since_activity
FROM "upload_sessions" s
JOIN "projects" p ON p.id = s.project_id
JOIN "cycles" cy ON cy.id = s.cycle_id
JOIN "companies" co ON co.id = s.company_id
JOIN "users" u ON u.id = s.user_id
CROSS JOIN LATERAL (SELECT extract(epoch FROM now() - s.created_at)::double precision AS seconds_running) t
WHERE s.status IN ('active', 'finishing');
--> statement-breakpoint
-- Active sessions with no plan, sign or confirm for 10 minutes: a closed laptop, a lost network, a stuck CLI.
CREATE VIEW "v_stalled_sessions" AS
SELECT
  session_id,
  company,
  project_id,
  project,
  bucket,
  cycle,
  username,
  source,
  label,
  files_total,
  files_done,
  files_failed,
  bytes_total,
  bytes_done,
  files_percent,
  started_at,
  last_activity_at,
  (seconds_since_activity / 60)::double precision AS minutes_idle
FROM "v_live_sessions"
WHERE status = 'active' AND last_activity_at < now() - interval '10 minutes';
--> statement-breakpoint
-- Failed ledger rows with where they belong and the reason the person saw.
CREATE VIEW "v_failures" AS
SELECT
  f.id AS file_id,
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  p.bucket,
  cy.id AS cycle_id,
  cy.name AS cycle,
  f.session_id,
  s.label AS session_label,
  s.source::text AS source,
  u.username,
  f.relative_path,
  f.s3_key,
  f.size,
  f.attempts,
  f.error,
  f.claimed_at AS last_attempt_at
FROM "files" f
JOIN "cycles" cy ON cy.id = f.cycle_id
JOIN "projects" p ON p.id = cy.project_id
JOIN "companies" co ON co.id = p.company_id
JOIN "upload_sessions" s ON s.id = f.session_id
JOIN "users" u ON u.id = s.user_id
WHERE f.status = 'failed';
--> statement-breakpoint
-- Per cycle: what the ledger holds, what arrived, what failed, how many sensors and which recording span.
CREATE VIEW "v_cycle_totals" AS
SELECT
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  p.bucket,
  cy.id AS cycle_id,
  cy.name AS cycle,
  cy.s3_prefix,
  cy.status::text AS cycle_status,
  cy.created_at,
  count(f.id) AS files,
  coalesce(sum(f.size), 0)::bigint AS bytes,
  count(f.id) FILTER (WHERE f.status = 'completed') AS files_completed,
  coalesce(sum(f.size) FILTER (WHERE f.status = 'completed'), 0)::bigint AS bytes_completed,
  count(f.id) FILTER (WHERE f.status = 'failed') AS files_failed,
  count(f.id) FILTER (WHERE f.status IN ('pending', 'uploading')) AS files_pending,
  count(DISTINCT k.sensor) FILTER (WHERE f.status = 'completed') AS sensors,
  min(k.recorded) AS first_recording_at,
  max(k.recorded) AS last_recording_at,
  max(f.completed_at) AS last_completed_at
FROM "cycles" cy
JOIN "projects" p ON p.id = cy.project_id
JOIN "companies" co ON co.id = p.company_id
LEFT JOIN "files" f ON f.cycle_id = cy.id
LEFT JOIN LATERAL (
  SELECT
    coalesce(
      f.sensor_serial,
      CASE WHEN strpos(f.relative_path, '/') > 0 THEN split_part(f.relative_path, '/', 1) END
    ) AS sensor,
    coalesce(f.recorded_at, f.last_modified) AS recorded
) k ON true
GROUP BY co.slug, p.id, cy.id;
--> statement-breakpoint
-- Per project, over all its cycles (a project without cycles shows zeros).
CREATE VIEW "v_project_totals" AS
SELECT
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  p.bucket,
  p.archived_at IS NOT NULL AS archived,
  count(t.cycle_id) AS cycles,
  coalesce(sum(t.files), 0)::bigint AS files,
  coalesce(sum(t.bytes), 0)::bigint AS bytes,
  coalesce(sum(t.files_completed), 0)::bigint AS files_completed,
  coalesce(sum(t.bytes_completed), 0)::bigint AS bytes_completed,
  coalesce(sum(t.files_failed), 0)::bigint AS files_failed,
  coalesce(sum(t.files_pending), 0)::bigint AS files_pending,
  max(t.last_completed_at) AS last_completed_at
FROM "projects" p
JOIN "companies" co ON co.id = p.company_id
LEFT JOIN "v_cycle_totals" t ON t.project_id = p.id
GROUP BY co.slug, p.id;
--> statement-breakpoint
-- Per bucket (a company's projects may share one under different key prefixes; the endpoint tells stores apart).
CREATE VIEW "v_bucket_totals" AS
SELECT
  co.slug AS company,
  coalesce(p.endpoint, '') AS endpoint,
  p.bucket,
  count(*) AS projects,
  sum(t.files)::bigint AS files,
  sum(t.bytes)::bigint AS bytes,
  sum(t.files_completed)::bigint AS files_completed,
  sum(t.bytes_completed)::bigint AS bytes_completed,
  sum(t.files_failed)::bigint AS files_failed
FROM "projects" p
JOIN "companies" co ON co.id = p.company_id
JOIN "v_project_totals" t ON t.project_id = p.id
GROUP BY co.slug, coalesce(p.endpoint, ''), p.bucket;
--> statement-breakpoint
-- Each cycle beside the project's previous one (by creation): what arrived, and the change.
CREATE VIEW "v_cycle_comparison" AS
SELECT
  company,
  project_id,
  project,
  cycle_id,
  cycle,
  created_at,
  row_number() OVER w AS cycle_number,
  files_completed,
  bytes_completed,
  files_failed,
  sensors,
  first_recording_at,
  last_recording_at,
  (extract(epoch FROM last_recording_at - first_recording_at) / 86400)::double precision AS days_recorded,
  lag(cycle) OVER w AS previous_cycle,
  files_completed - lag(files_completed) OVER w AS files_change,
  bytes_completed - lag(bytes_completed) OVER w AS bytes_change,
  sensors - lag(sensors) OVER w AS sensors_change
FROM "v_cycle_totals"
WINDOW w AS (PARTITION BY project_id ORDER BY created_at, cycle);
--> statement-breakpoint
-- Completed and failed files per UTC day (completion day, or last attempt for failures), per project.
CREATE VIEW "v_daily_success" AS
SELECT
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  d.day,
  (d.day::timestamp AT TIME ZONE 'UTC') AS day_start,
  count(*) FILTER (WHERE f.status = 'completed') AS files_completed,
  count(*) FILTER (WHERE f.status = 'failed') AS files_failed,
  round(100.0 * count(*) FILTER (WHERE f.status = 'completed') / count(*), 2)::double precision AS success_percent
FROM "files" f
JOIN "cycles" cy ON cy.id = f.cycle_id
JOIN "projects" p ON p.id = cy.project_id
JOIN "companies" co ON co.id = p.company_id
CROSS JOIN LATERAL (
  SELECT (
    (CASE WHEN f.status = 'completed' THEN coalesce(f.completed_at, f.claimed_at) ELSE f.claimed_at END)
    AT TIME ZONE 'UTC'
  )::date AS day
) d
WHERE f.status IN ('completed', 'failed')
GROUP BY co.slug, p.id, d.day;
--> statement-breakpoint
-- File types per cycle: the extension of the relative path (lower case) and the content type sent.
CREATE VIEW "v_file_types" AS
SELECT
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  cy.id AS cycle_id,
  cy.name AS cycle,
  k.extension,
  k.content_type,
  count(*) AS files,
  sum(f.size)::bigint AS bytes,
  count(*) FILTER (WHERE f.status = 'completed') AS files_completed,
  coalesce(sum(f.size) FILTER (WHERE f.status = 'completed'), 0)::bigint AS bytes_completed
FROM "files" f
JOIN "cycles" cy ON cy.id = f.cycle_id
JOIN "projects" p ON p.id = cy.project_id
JOIN "companies" co ON co.id = p.company_id
CROSS JOIN LATERAL (
  SELECT
    coalesce(lower(substring(f.relative_path FROM '\.([^./]+)$')), '(none)') AS extension,
    coalesce(f.content_type, '(unknown)') AS content_type
) k
GROUP BY co.slug, p.id, cy.id, k.extension, k.content_type;
--> statement-breakpoint
-- Coverage of the field campaign: files per sensor per UTC day of their last-modified time.
CREATE VIEW "v_sensor_coverage" AS
SELECT
  co.slug AS company,
  p.id AS project_id,
  p.name AS project,
  cy.id AS cycle_id,
  cy.name AS cycle,
  k.sensor,
  k.day,
  (k.day::timestamp AT TIME ZONE 'UTC') AS day_start,
  count(*) AS files,
  count(*) FILTER (WHERE f.status = 'completed') AS files_arrived,
  coalesce(sum(f.size) FILTER (WHERE f.status = 'completed'), 0)::bigint AS bytes_arrived
FROM "files" f
JOIN "cycles" cy ON cy.id = f.cycle_id
JOIN "projects" p ON p.id = cy.project_id
JOIN "companies" co ON co.id = p.company_id
CROSS JOIN LATERAL (
  SELECT
    coalesce(
      f.sensor_serial,
      CASE WHEN strpos(f.relative_path, '/') > 0 THEN split_part(f.relative_path, '/', 1) END,
      '(no sensor folder)'
    ) AS sensor,
    (f.last_modified AT TIME ZONE 'UTC')::date AS day
) k
WHERE f.last_modified IS NOT NULL
GROUP BY co.slug, p.id, cy.id, k.sensor, k.day;
--> statement-breakpoint
-- Grafana's read-only role: the views and nothing else. A cluster role, so it may exist already (another
-- database of the same server, or a concurrent migration). Without CREATEROLE, start-up goes on and a DBA
-- creates the role and runs the two GRANTs below by hand.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    BEGIN
      CREATE ROLE grafana_reader NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'grafana_reader not created (no CREATEROLE privilege); create it and grant it the v_ views';
    END;
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'grafana_reader') THEN
    GRANT USAGE ON SCHEMA public TO grafana_reader;
    GRANT SELECT ON
      "v_live_sessions",
      "v_stalled_sessions",
      "v_failures",
      "v_cycle_totals",
      "v_project_totals",
      "v_bucket_totals",
      "v_cycle_comparison",
      "v_daily_success",
      "v_file_types",
      "v_sensor_coverage"
    TO grafana_reader;
  END IF;
END
$$;
