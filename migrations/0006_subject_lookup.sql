ALTER TABLE `tombstones` ADD `deleted_lookup` text;--> statement-breakpoint
ALTER TABLE `users` ADD `subject` text;