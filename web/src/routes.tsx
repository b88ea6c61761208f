import { Center, Loader } from "@mantine/core";
import { Suspense, lazy, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { NotAvailable } from "./pages/NotAvailable";
import { SignInPage } from "./pages/SignIn";
import { Shell } from "./Shell";
import { useSession } from "./session";

// One chunk per page: the first page loads the shell and itself, not the board's drag and drop.
const Contacts = lazy(() => import("./pages/Contacts"));
const ContactDetail = lazy(() => import("./pages/ContactDetail"));
const Companies = lazy(() => import("./pages/Companies"));
const CompanyDetail = lazy(() => import("./pages/CompanyDetail"));
const Deals = lazy(() => import("./pages/Deals"));
const Activities = lazy(() => import("./pages/Activities"));
const Settings = lazy(() => import("./pages/Settings"));

function Page({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Center py="xl">
          <Loader aria-label="Loading" />
        </Center>
      }
    >
      {children}
    </Suspense>
  );
}

function RequireSession({ children }: { children: ReactNode }) {
  const { credential, expired } = useSession();
  const location = useLocation();
  if (!credential && !expired) {
    return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  }
  return children;
}

// Declarative routes (not the data router): the app loads its data through TanStack Query, and the
// declarative router is the smaller one to ship on the first page.
export function AppRoutes() {
  const page = (element: ReactNode) => <Page>{element}</Page>;
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route
        path="/"
        element={
          <RequireSession>
            <Shell />
          </RequireSession>
        }
      >
        <Route index element={<Navigate to="/contacts" replace />} />
        <Route path="contacts" element={page(<Contacts />)} />
        <Route path="contacts/:id" element={page(<ContactDetail />)} />
        <Route path="companies" element={page(<Companies />)} />
        <Route path="companies/:id" element={page(<CompanyDetail />)} />
        <Route path="deals" element={page(<Deals />)} />
        <Route path="activities" element={page(<Activities />)} />
        <Route path="settings" element={page(<Settings />)} />
        <Route path="tickets" element={<NotAvailable name="Tickets" />} />
        <Route path="quotes" element={<NotAvailable name="Quotes" />} />
        <Route path="campaigns" element={<NotAvailable name="Campaigns" />} />
        <Route path="reports" element={<NotAvailable name="Reports" />} />
        <Route path="*" element={<NotAvailable name="This page" missing />} />
      </Route>
    </Routes>
  );
}
