/** Random, prefixed, URL-safe ids (128 bits of entropy): ids reveal nothing. */
export type IdPrefix = "usr" | "aud" | "sec" | "pho" | "img" | "gen" | "led" | "pay" | "key" | "exp" | "rcp" | "obx" | "req";

export function newId(prefix: IdPrefix): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return `${prefix}_${s}`;
}
