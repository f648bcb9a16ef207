ALTER TABLE "files" DROP CONSTRAINT "files_cycle_id_cycles_id_fk";
--> statement-breakpoint
ALTER TABLE "files" DROP CONSTRAINT "files_session_id_upload_sessions_id_fk";
