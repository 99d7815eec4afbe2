CREATE TABLE `incidents` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`title` text NOT NULL,
	`summary` text NOT NULL,
	`aware_at` integer NOT NULL,
	`window_start` integer NOT NULL,
	`window_end` integer NOT NULL,
	`data_kinds` text NOT NULL,
	`finder` text NOT NULL,
	`affected_users` integer,
	`authority_notified_at` integer,
	`users_notified_at` integer,
	`post_mortem` text,
	`published_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `incidents_slug_unique` ON `incidents` (`slug`);--> statement-breakpoint
CREATE TABLE `legal_demands` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`authority` text NOT NULL,
	`legal_basis` text NOT NULL,
	`received_at` integer NOT NULL,
	`user_id` text,
	`decision` text NOT NULL,
	`decision_note` text,
	`decided_at` integer,
	`produced_data` text NOT NULL,
	`notification` text NOT NULL,
	`defer_reason` text,
	`defer_review_at` integer,
	`notified_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `notices` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`read_at` integer
);
--> statement-breakpoint
CREATE INDEX `notices_user` ON `notices` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `operator_log` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`operator_id` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text NOT NULL,
	`target_id` text NOT NULL,
	`user_id` text,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `operator_log_at` ON `operator_log` (`at`);--> statement-breakpoint
CREATE TABLE `privacy_request_events` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `privacy_request_events_request` ON `privacy_request_events` (`request_id`,`at`);--> statement-breakpoint
CREATE TABLE `privacy_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`email` text,
	`message` text,
	`subject` text,
	`user_id` text,
	`created_at` integer NOT NULL,
	`due_at` integer,
	`closed_at` integer
);
--> statement-breakpoint
CREATE INDEX `privacy_requests_status` ON `privacy_requests` (`status`,`created_at`);