/**
 * The Hono environment of the HTTP layer: the bindings and the request
 * variables set by middleware. It sits above the services (it carries them),
 * apart from worker/env.ts, which the services themselves read.
 */
import type { AuthContext } from "./auth/types";
import type { Bindings } from "./env";
import type { Services } from "./services";

export interface AppVariables {
  requestId: string;
  services: Services;
  auth: AuthContext;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: AppVariables;
}
