/** Only http(s) destinations: the URL comes from our API, but a redirect target is worth one check. */
export function safeCheckoutUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("The payment page address is not a web address.");
  return url.toString();
}
