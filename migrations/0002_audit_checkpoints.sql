CREATE TABLE `audit_checkpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`seq` integer NOT NULL,
	`head` text NOT NULL,
	`created_at` integer NOT NULL,
	`key_id` text NOT NULL,
	`sig` text NOT NULL,
	`reason` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_checkpoints_user_time` ON `audit_checkpoints` (`user_id`,`created_at`,`id`);