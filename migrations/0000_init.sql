CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_unique` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_user` ON `api_keys` (`user_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`action` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`request_id` text,
	`ip_prefix` text,
	`user_agent` text,
	`detail` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_user_seq` ON `audit_log` (`user_id`,`seq`);--> statement-breakpoint
CREATE TABLE `deletion_receipts` (
	`id` text PRIMARY KEY NOT NULL,
	`subject_hash` text NOT NULL,
	`kind` text NOT NULL,
	`counts` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `exports` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`progress` integer DEFAULT 0 NOT NULL,
	`object_id` text,
	`error` text,
	`created_at` integer NOT NULL,
	`completed_at` integer,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `exports_user` ON `exports` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `generations` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`mother_photo_id` text,
	`father_photo_id` text,
	`options` text NOT NULL,
	`status` text NOT NULL,
	`stage` text NOT NULL,
	`model` text NOT NULL,
	`provider_request_id` text,
	`cost` integer NOT NULL,
	`error_code` text,
	`error_message` text,
	`idempotency_key` text NOT NULL,
	`request_hash` text NOT NULL,
	`queue_position` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`submitted_at` integer,
	`completed_at` integer,
	`deadline_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `generations_idem` ON `generations` (`user_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `generations_user_created` ON `generations` (`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `generations_status_deadline` ON `generations` (`status`,`deadline_at`);--> statement-breakpoint
CREATE INDEX `generations_provider_req` ON `generations` (`provider_request_id`);--> statement-breakpoint
CREATE TABLE `ledger` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`delta` integer NOT NULL,
	`reason` text NOT NULL,
	`reference` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_reason_ref` ON `ledger` (`reason`,`reference`);--> statement-breakpoint
CREATE INDEX `ledger_user` ON `ledger` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `objects` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`r2_key` text NOT NULL,
	`content_type` text NOT NULL,
	`bytes` integer NOT NULL,
	`width` integer,
	`height` integer,
	`generation_id` text,
	`upload_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `objects_upload_id_unique` ON `objects` (`upload_id`);--> statement-breakpoint
CREATE INDEX `objects_user_kind` ON `objects` (`user_id`,`kind`,`created_at`);--> statement-breakpoint
CREATE INDEX `objects_generation` ON `objects` (`generation_id`);--> statement-breakpoint
CREATE INDEX `objects_expires` ON `objects` (`expires_at`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`recipient` text NOT NULL,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`provider_txn_id` text NOT NULL,
	`product_id` text,
	`credits` integer NOT NULL,
	`amount` integer,
	`currency` text,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payments_provider_txn_id_unique` ON `payments` (`provider_txn_id`);--> statement-breakpoint
CREATE TABLE `security_log` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`ip_prefix` text,
	`request_id` text,
	`user_id` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `security_kind_at` ON `security_log` (`kind`,`at`);--> statement-breakpoint
CREATE TABLE `tombstones` (
	`user_id` text PRIMARY KEY NOT NULL,
	`external_id` text NOT NULL,
	`stage` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`external_id` text NOT NULL,
	`email` text,
	`created_at` integer NOT NULL,
	`keep_photos_days` integer DEFAULT 0 NOT NULL,
	`consent_version` text,
	`consent_at` integer,
	`support_access_until` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_external_id_unique` ON `users` (`external_id`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`provider` text NOT NULL,
	`received_at` integer NOT NULL
);
