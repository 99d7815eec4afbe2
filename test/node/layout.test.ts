/** Project layout facts the tooling relies on. */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";

describe("project layout", () => {
  it("commits the generated initial migration", () => {
    const sql = readFileSync(new URL("../../migrations/0000_init.sql", import.meta.url).pathname, "utf8");
    expect(sql).toContain("CREATE TABLE `audit_log`");
    expect(sql).toContain("CREATE UNIQUE INDEX `audit_user_seq`");
  });
});
