import { toHex } from "./bytes";

/** Random, prefixed, URL-safe ids (128 bits of entropy): ids reveal nothing. */
export type IdPrefix = "usr" | "aud" | "sec" | "pho" | "img" | "gen" | "led" | "pay" | "key" | "exp" | "rcp" | "obx" | "req" | "acp" | "prq" | "pre" | "opl" | "ntc" | "inc" | "lgd" | "whe" | "evt" | "whd" | "sup" | "sir";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/** The pattern of one kind of id (`gen_` and 32 lower-case hex digits, ...): the one place that spells it. */
export function idPattern(prefix: IdPrefix): RegExp {
  return new RegExp(`^${prefix}_[0-9a-f]{32}$`);
}
