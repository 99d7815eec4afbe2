CREATE TABLE `deleted_credentials` (
	`lookup` text PRIMARY KEY NOT NULL,
	`deleted_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deleted_credentials_expires` ON `deleted_credentials` (`expires_at`);