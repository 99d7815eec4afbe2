CREATE TABLE `audit_pending` (
	`n` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`user_id` text NOT NULL,
	`at` integer NOT NULL,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`action` text NOT NULL,
	`target_type` text,
	`target_id` text,
	`request_id` text,
	`ip_prefix` text,
	`user_agent` text,
	`detail` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_pending_id_unique` ON `audit_pending` (`id`);--> statement-breakpoint
CREATE INDEX `audit_pending_user_n` ON `audit_pending` (`user_id`,`n`);