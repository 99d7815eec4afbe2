CREATE TABLE `support_image_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`user_id` text NOT NULL,
	`generation_id` text NOT NULL,
	`requested_by` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL,
	`status` text NOT NULL,
	`decided_by` text,
	`decided_via` text,
	`decided_at` integer
);
--> statement-breakpoint
CREATE INDEX `support_image_requests_session` ON `support_image_requests` (`session_id`);--> statement-breakpoint
CREATE INDEX `support_image_requests_user` ON `support_image_requests` (`user_id`);--> statement-breakpoint
CREATE TABLE `support_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`operator_id` text NOT NULL,
	`reason` text NOT NULL,
	`ticket` text NOT NULL,
	`opened_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer,
	`ended_by` text
);
--> statement-breakpoint
CREATE INDEX `support_sessions_user` ON `support_sessions` (`user_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `support_sessions_expires` ON `support_sessions` (`expires_at`);