/**
 * Fake outbound HTTP with msw: handlers answer in-process; anything
 * unhandled falls through to miniflare's outboundService, which fails it.
 */
import { setupServer } from "msw/node";

export const network = setupServer();
