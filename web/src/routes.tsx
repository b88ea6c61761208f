import { type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { Page, lazyPage } from "./lazyPage";
import { NotAvailable } from "./pages/NotAvailable";
import { SignInPage } from "./pages/SignIn";
import { Shell } from "./Shell";
import { useSession } from "./session";

// One chunk per page: the first page loads the shell and itself, not the board's drag and drop.
const Contacts = lazyPage(() => import("./pages/Contacts"));
const ContactDetail = lazyPage(() => import("./pages/ContactDetail"));
const Companies = lazyPage(() => import("./pages/Companies"));
const CompanyDetail = lazyPage(() => import("./pages/CompanyDetail"));
const Deals = lazyPage(() => import("./pages/Deals"));
const DealDetail = lazyPage(() => import("./pages/DealDetail"));
const Activities = lazyPage(() => import("./pages/Activities"));
const Reports = lazyPage(() => import("./pages/Reports"));
// Settings routes its sub-pages itself, each a chunk of its own loaded from its chunk: the first page's
// JavaScript carries one entry for the section, not one per sub-page.
const Settings = lazyPage(() => import("./pages/Settings"));
const SettingsWithSubPage = {
  preload: (pathname: string) => Settings.preload().then((module) => module.preloadSubPage(pathname)),
};
const Duplicates = lazyPage(() => import("./pages/Duplicates"));
const Merge = lazyPage(() => import("./pages/Merge"));
const Campaigns = lazyPage(() => import("./pages/Campaigns"));
const Tickets = lazyPage(() => import("./pages/Tickets"));
const TicketDetail = lazyPage(() => import("./pages/TicketDetail"));
const Articles = lazyPage(() => import("./pages/tickets/Articles"));
const Quotes = lazyPage(() => import("./pages/Quotes"));
const QuoteDetail = lazyPage(() => import("./pages/QuoteDetail"));
const Products = lazyPage(() => import("./pages/quotes/Products"));
const Contracts = lazyPage(() => import("./pages/Contracts"));
const NewContract = lazyPage(() => import("./pages/contracts/NewContract"));
const ContractDetail = lazyPage(() => import("./pages/ContractDetail"));

// The page each path opens (as the routes below say), for preloading the first one.
const PAGES: [RegExp, { preload: (pathname: string) => Promise<unknown> }][] = [
  [/^\/(contacts\/?)?$/, Contacts],
  [/^\/(contacts|companies)\/duplicates/, Duplicates],
  [/^\/(contacts|companies)\/merge/, Merge],
  [/^\/contacts\/[^/]+/, ContactDetail],
  [/^\/companies\/?$/, Companies],
  [/^\/companies\/[^/]+/, CompanyDetail],
  [/^\/deals\/[^/]+/, DealDetail],
  [/^\/deals/, Deals],
  [/^\/activities/, Activities],
  [/^\/settings/, SettingsWithSubPage],
  [/^\/campaigns/, Campaigns],
  [/^\/tickets\/?$/, Tickets],
  [/^\/tickets\/articles/, Articles],
  [/^\/tickets\/[^/]+/, TicketDetail],
  [/^\/quotes\/?$/, Quotes],
  [/^\/quotes\/products/, Products],
  [/^\/quotes\/[^/]+/, QuoteDetail],
  [/^\/contracts\/?$/, Contracts],
  [/^\/contracts\/new/, NewContract],
  [/^\/contracts\/[^/]+/, ContractDetail],
];

/** The chunk of the page a path opens, loaded beside the app's own, so that the first render shows it. */
export function preloadFirstPage(pathname: string): Promise<unknown> {
  const page = PAGES.find(([pattern]) => pattern.test(pathname));
  // A chunk that fails to load here is loaded again by the page itself (and its error shown there).
  return page ? page[1].preload(pathname).catch(() => undefined) : Promise.resolve();
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
        <Route path="contacts/duplicates" element={page(<Duplicates />)} />
        <Route path="contacts/merge" element={page(<Merge />)} />
        <Route path="contacts/:id" element={page(<ContactDetail />)} />
        <Route path="companies" element={page(<Companies />)} />
        <Route path="companies/duplicates" element={page(<Duplicates />)} />
        <Route path="companies/merge" element={page(<Merge />)} />
        <Route path="companies/:id" element={page(<CompanyDetail />)} />
        <Route path="deals" element={page(<Deals />)} />
        <Route path="deals/:id" element={page(<DealDetail />)} />
        <Route path="activities" element={page(<Activities />)} />
        <Route path="settings/*" element={page(<Settings />)} />
        <Route path="tickets" element={page(<Tickets />)} />
        <Route path="tickets/articles" element={page(<Articles />)} />
        <Route path="tickets/:id" element={page(<TicketDetail />)} />
        <Route path="quotes" element={page(<Quotes />)} />
        <Route path="quotes/products" element={page(<Products />)} />
        <Route path="quotes/:id" element={page(<QuoteDetail />)} />
        <Route path="contracts" element={page(<Contracts />)} />
        <Route path="contracts/new" element={page(<NewContract />)} />
        <Route path="contracts/:id" element={page(<ContractDetail />)} />
        <Route path="campaigns" element={page(<Campaigns />)} />
        <Route path="reports" element={page(<Reports />)} />
        <Route path="*" element={<NotAvailable name="This page" missing />} />
      </Route>
    </Routes>
  );
}
