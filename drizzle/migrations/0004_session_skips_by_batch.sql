-- One row per plan batch instead of one per skipped file; the rows already recorded become one row per session.
ALTER TABLE "upload_session_skips" RENAME TO "upload_session_skips_by_file";--> statement-breakpoint
ALTER TABLE "upload_session_skips_by_file" RENAME CONSTRAINT "upload_session_skips_session_id_file_id_pk" TO "upload_session_skips_by_file_pk";--> statement-breakpoint
CREATE TABLE "upload_session_skips" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"first_file_id" bigint NOT NULL,
	"last_file_id" bigint NOT NULL,
	"file_ids" bigint[] NOT NULL
);--> statement-breakpoint
INSERT INTO "upload_session_skips" ("session_id", "first_file_id", "last_file_id", "file_ids")
SELECT "session_id", min("file_id"), max("file_id"), array_agg("file_id" ORDER BY "file_id")
FROM "upload_session_skips_by_file" GROUP BY "session_id";--> statement-breakpoint
DROP TABLE "upload_session_skips_by_file";--> statement-breakpoint
CREATE INDEX "upload_session_skips_session_idx" ON "upload_session_skips" USING btree ("session_id","first_file_id");
