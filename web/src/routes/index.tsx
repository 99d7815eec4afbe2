/**
 * The route table. Pages that need sign-in live under /app inside
 * <AuthBoundary> and <RequireAuth>, and are lazy-loaded; add new ones
 * (upload, generation progress, gallery, account) as children of "app".
 */
import { createBrowserRouter } from "react-router";
import { Layout } from "../components/Layout";
import { AuthBoundary } from "../features/auth/AuthBoundary";
import { RequireAuth } from "../features/auth/RequireAuth";
import { AppLayout } from "./app/AppLayout";
import { Landing } from "./Landing";
import { NotFound } from "./NotFound";
import { RouteError } from "./RouteError";

export const router = createBrowserRouter([
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Landing /> },
      {
        element: <AuthBoundary />,
        children: [
          // "/*": Clerk's <SignIn routing="path"> has sub-steps under /sign-in/.
          { path: "sign-in/*", lazy: async () => ({ Component: (await import("./SignIn")).default }) },
          {
            path: "app",
            element: <RequireAuth />,
            children: [
              {
                element: <AppLayout />,
                children: [{ index: true, lazy: async () => ({ Component: (await import("./app/Dashboard")).default }) }],
              },
            ],
          },
        ],
      },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
