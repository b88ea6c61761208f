import createClient, { type Middleware } from "openapi-fetch";
import { currentCredential, session } from "../session";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

const authorization: Middleware = {
  async onRequest({ request }) {
    if (request.headers.has("Authorization")) return request;
    // A password session's ID token is refreshed here when it is about to expire, before it is sent.
    const credential = await currentCredential();
    if (credential) {
      request.headers.set("Authorization", `Bearer ${credential}`);
    }
    return request;
  },
  onResponse({ request, response }) {
    // A credential that stopped working (revoked, expired, its user deactivated) ends the session; the
    // sign-in check's own key, or a late answer to a credential already replaced, does not.
    const credential = session.get().credential;
    if (response.status === 401 && credential && request.headers.get("Authorization") === `Bearer ${credential}`) {
      session.expire();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(authorization);

/** An answer other than 2xx, with the problem details the API sent. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Partial<Problem>;

  constructor(status: number, problem: Partial<Problem>) {
    super(problem.detail ?? problem.title ?? `The request failed (${status}).`);
    this.status = status;
    this.problem = problem;
  }

  /** The problem's field errors by field name, for the form to show next to each field. */
  fieldErrors(): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const error of this.problem.errors ?? []) {
      errors[error.field] ??= error.message;
    }
    return errors;
  }
}

/** The data of an openapi-fetch answer, or an ApiError for TanStack Query to hold. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    const problem = (typeof error === "object" && error !== null ? error : {}) as Partial<Problem>;
    throw new ApiError(response.status, problem);
  }
  return data;
}

/** An answer with no body (a DELETE's 204): nothing, or the ApiError of its problem (unwrap wants data). */
export async function noContent(call: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) {
    throw new ApiError(response.status, (typeof error === "object" && error !== null ? error : {}) as Partial<Problem>);
  }
}

/** The If-Match header for the version a form or card was read at. */
export function ifMatch(version: number): { "If-Match": string } {
  return { "If-Match": `"${version}"` };
}
