/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The API's origin when it is not the SPA's own (production: https://api.babypic.app). Empty: same origin. */
  readonly VITE_API_URL?: string;
  /** Clerk publishable key. When unset the app uses the local development identity provider. */
  readonly VITE_CLERK_PUBLISHABLE_KEY?: string;
  /** Minutes without interaction before the SPA signs out (default 30). */
  readonly VITE_IDLE_TIMEOUT_MINUTES?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
