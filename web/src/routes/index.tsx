/**
 * The route table. Pages that need sign-in live under /app inside
 * <AuthBoundary> and <RequireAuth>, and are lazy-loaded; add new ones
 * (upload, generation progress, gallery, account) as children of "app".
 */
import { createBrowserRouter } from "react-router";
import { Layout } from "../components/Layout";
import { Loading } from "../components/Loading";
import { AuthBoundary } from "../features/auth/AuthBoundary";
import { RequireAuth } from "../features/auth/RequireAuth";
import { AppLayout } from "./app/AppLayout";
import { NotFound } from "./NotFound";
import { RouteError } from "./RouteError";

export const router = createBrowserRouter([
  {
    element: <Layout />,
    errorElement: <RouteError />,
    // Shown while the first page's lazy module loads; without it React Router
    // warns "No `HydrateFallback` element provided" (issue 19 item 5).
    hydrateFallbackElement: <Loading label="Loading BabyPic" />,
    children: [
      // A full page load shows the static landing page (web/index.html); this is for a client-side visit.
      { index: true, lazy: async () => ({ Component: (await import("./Landing")).Landing }) },
      { path: "security", lazy: async () => ({ Component: (await import("./Security")).default }) },
      { path: "security/disclosure", lazy: async () => ({ Component: (await import("./Disclosure")).default }) },
      { path: "incidents/:slug", lazy: async () => ({ Component: (await import("./IncidentPage")).default }) },
      { path: "transparency", lazy: async () => ({ Component: (await import("./Transparency")).default }) },
      { path: "contact", lazy: async () => ({ Component: (await import("./Contact")).default }) },
      { path: "privacy", lazy: async () => ({ Component: (await import("./Privacy")).default }) },
      { path: "terms", lazy: async () => ({ Component: (await import("./Terms")).default }) },
      // Creem's success_url (worker/services/billing.ts) is APP_ORIGIN/billing.
      { path: "billing", lazy: async () => ({ Component: (await import("../features/billing/BillingReturn")).default }) },
      {
        element: <AuthBoundary />,
        children: [
          // "/*": Clerk's <SignIn routing="path"> has sub-steps under /sign-in/.
          { path: "sign-in/*", lazy: async () => ({ Component: (await import("./SignIn")).default }) },
          // Signed in until it signs out itself, so outside <RequireAuth>.
          { path: "account-deleted", lazy: async () => ({ Component: (await import("../features/account/AccountDeleted")).default }) },
          // The operator console; the API decides who may see it (a non-admin gets the not-found view).
          {
            path: "admin",
            element: <RequireAuth />,
            children: [{ index: true, lazy: async () => ({ Component: (await import("./Admin")).default }) }],
          },
          {
            path: "app",
            element: <RequireAuth />,
            children: [
              {
                element: <AppLayout />,
                children: [
                  { index: true, lazy: async () => ({ Component: (await import("./app/Dashboard")).default }) },
                  { path: "gallery", lazy: async () => ({ Component: (await import("./app/Gallery")).default }) },
                  { path: "gallery/:id", lazy: async () => ({ Component: (await import("./app/GalleryItem")).default }) },
                  { path: "billing", lazy: async () => ({ Component: (await import("./app/Billing")).default }) },
                  { path: "api-keys", lazy: async () => ({ Component: (await import("./app/ApiKeys")).default }) },
                  { path: "activity", lazy: async () => ({ Component: (await import("./app/Activity")).default }) },
                  { path: "account", lazy: async () => ({ Component: (await import("./app/Account")).default }) },
                  { path: "profile/*", lazy: async () => ({ Component: (await import("./app/Profile")).default }) },
                  { path: "create", lazy: async () => ({ Component: (await import("./app/Create")).default }) },
                  { path: "generations/:id", lazy: async () => ({ Component: (await import("./app/Generation")).default }) },
                ],
              },
            ],
          },
        ],
      },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
